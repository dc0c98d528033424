//! The `xlsx` sink keeps the sink contract.

use exporter_xlsx as _; // link the plugin

#[test]
fn keeps_the_contract() {
    exporter_testkit::Kit::new("xlsx").unwrap().assert_all();
}
