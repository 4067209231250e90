//! The failover drill (`deploy/drill/failover`), as docs/RUNBOOK.md "Fail over" describes:
//! a primary and a synchronous standby of the drill's own (PostgreSQL's binaries in
//! `TEST_PG_BIN`), the platform on a URL naming both, orders placed meanwhile; the primary
//! killed, the standby promoted. No acknowledged order may be lost, the platform must take
//! orders again within 30 s, and the figures land in the runbook.

use std::process::Command;

/// The number on the line that starts with `label`, e.g. `RTO: 3.2 s`.
fn figure<'a>(output: &'a str, label: &str) -> &'a str {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{output}"))
}

#[test]
fn failover_to_a_synchronous_standby_loses_no_acknowledged_order() {
    let test = "failover_to_a_synchronous_standby_loses_no_acknowledged_order";
    let Some(bin) = ordo_testkit::required("TEST_PG_BIN", "PostgreSQL's binaries", test) else {
        return;
    };
    let dir = ordo_testkit::temp_dir();
    let runbook = dir.path().join("RUNBOOK.md");
    std::fs::write(
        &runbook,
        "### Fail over\n\n<!-- failover-drill -->\nno figures yet\n<!-- /failover-drill -->\n\n\
         ### Next\n",
    )
    .unwrap();
    let drill = ordo_testkit::workspace_root().join("deploy/drill/failover");
    // A debug build places fewer orders a second than a release one.
    let output = Command::new(drill)
        .args(["--ordo", env!("CARGO_BIN_EXE_ordo"), "--pg-bin", &bin])
        .args(["--replication", "sync", "--rate", "10", "--runbook"])
        .arg(&runbook)
        .output()
        .unwrap();
    let printed = ordo_testkit::printed(&output);
    assert!(output.status.success(), "the drill failed:\n{printed}");
    let rto = figure(&printed, "RTO: ");
    let rpo = figure(&printed, "RPO: ");
    assert_eq!(rpo, "0", "{printed}");
    let seconds: f64 = rto.parse().unwrap();
    assert!(seconds <= 30.0, "RTO {rto} s:\n{printed}");
    let written = std::fs::read_to_string(&runbook).unwrap();
    assert!(!written.contains("no figures yet"), "{written}");
    assert!(
        written.contains("| sync |") && written.contains(&format!("| {rto} s | 0 orders |")),
        "{written}"
    );
    assert!(written.ends_with("### Next\n"), "{written}");
}
