//! The training rows of the Targets table, read from the JSON that
//! `cargo run --release -p cnn --example train_vs_keras -- --run-keras --run-torch --json FILE`
//! writes: our CIFAR-model training and inference rates and each peer's, measured in that run.

use crate::targets::{Measured, TRAINING};

/// The rows a training JSON gives: for each peer, training and inference as our time per image
/// over the peer's (below 1 = we are faster). Rates that are missing, zero or not finite give no
/// row.
///
/// # Errors
/// The file cannot be read or is not JSON.
pub fn rows(path: &std::path::Path) -> Result<Vec<Measured>, Box<dyn std::error::Error>> {
    let json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    Ok(rows_of(&json))
}

fn rows_of(json: &serde_json::Value) -> Vec<Measured> {
    let rate = |who: &str, key: &str| {
        json.get(who)
            .and_then(|o| o.get(key))
            .and_then(serde_json::Value::as_f64)
            .filter(|r| r.is_finite() && *r > 0.0)
    };
    let mut rows = Vec::new();
    for peer in ["PyTorch", "Keras"] {
        for (what, key) in
            [("training", "cifar_train_images_per_second"), ("inference", "cifar_predict_images_per_second")]
        {
            // Time ratio: the peer's rate over ours.
            let ratio = rate("convkit", key).zip(rate(peer, key)).map(|(ours, theirs)| theirs / ours);
            if ratio.is_some() {
                rows.push(Measured::peer_ratio(TRAINING, &format!("{what} vs {peer}"), ratio));
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_become_time_ratios_per_peer() {
        let json = serde_json::json!({
            "convkit": {"cifar_train_images_per_second": 6000.0, "cifar_predict_images_per_second": 18000.0},
            "PyTorch": {"cifar_train_images_per_second": 4000.0, "cifar_predict_images_per_second": 12000.0},
            "Keras": {"cifar_train_images_per_second": 0.0},
        });
        let rows = rows_of(&json);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["training vs PyTorch", "inference vs PyTorch"]);
        assert!(rows.iter().all(|r| (r.auto_over_peer.unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-12));
    }
}
