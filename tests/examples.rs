//! The examples run as tests, so that what they show keeps working.

#[path = "../examples/own_service.rs"]
mod own_service;

#[test]
fn own_service_example_runs() {
    own_service::main();
}
