pub mod bytecode;
pub mod bytecode_encoder;
pub mod zlib;
