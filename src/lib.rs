pub use instrument_macros::*;
pub use instrument_runtime::*;
