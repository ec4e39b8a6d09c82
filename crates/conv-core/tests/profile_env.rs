//! `CONVKIT_PROFILE` pointing at a file that is not a profile (issue "Reliability", family 5):
//! `/dev/zero` is not read until memory runs out, garbage is reported, not used silently.

use std::process::Command;

use conv_core::{Auto, ConvError};

/// Runs in a child process with `CONVKIT_PROFILE` set by the test below (the environment of
/// the test process itself is left alone).
#[test]
#[ignore = "run as a child process by the profile tests below"]
fn profile_env_child() {
    let expected = std::env::var("EXPECTED_REASON").expect("set by the parent test");
    match Auto::from_env() {
        Err(ConvError::Profile { reason, .. }) => {
            assert!(reason.contains(&expected), "{reason}");
            println!("REFUSED: {reason}");
        }
        other => panic!("expected a profile error, got {other:?}"),
    }
    // Auto::new still works, on the shipped profile, and says why on standard error.
    assert!(!Auto::new().profile().is_empty());
}

fn run_child(profile: &str, expected: &str) -> String {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args(["profile_env::profile_env_child", "--exact", "--ignored", "--nocapture", "--test-threads=1"])
        .env("CONVKIT_PROFILE", profile)
        .env("EXPECTED_REASON", expected)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("REFUSED: "), "{stdout}");
    assert!(stderr.contains("using the shipped profile instead"), "{stderr}");
    stdout
}

#[test]
fn an_endless_file_is_refused_at_the_cap() {
    run_child("/dev/zero", "more than 1048576 bytes");
}

#[test]
fn a_garbage_or_missing_profile_is_reported_with_its_path() {
    let path = std::env::temp_dir().join(format!("convkit-garbage-profile-{}", std::process::id()));
    std::fs::write(&path, "this is not a profile\n").expect("a temporary file");
    let shown = path.display().to_string();
    run_child(&shown, &shown);
    let _ = std::fs::remove_file(&path);
    run_child("/nonexistent/convkit-profile.txt", "/nonexistent/convkit-profile.txt");
}
