//! `dh-survey`: Design-based estimation for complex surveys (Taylor linearisation, replicate weights, calibration), matching R's survey package. No I/O.
