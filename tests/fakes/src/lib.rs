//! Local fakes of every service the engine calls, each speaking the real protocol on a
//! 127.0.0.1 port (see `docs/protocols/`), plus a TCP proxy a test can cut to simulate a
//! database outage. The engine's integration tests (`tests/engine`) and the benches
//! (`benches/`) use them; production code never does (it has no fallback to fake data).
//!
//! Each module's `start…` function binds a free port and returns a handle with the base URL
//! to configure the engine with, and what the fake received, for the test to check.

pub mod bitrix;
pub mod openai;
pub mod proxy;
pub mod samo;
pub mod smtp;
pub mod telegram;
pub mod wazzup;
