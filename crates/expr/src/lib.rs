//! `dh-expr`: The indicator expression language: parse universes and numerators over harmonised columns and evaluate them column-wise on Arrow arrays.
