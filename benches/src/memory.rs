//! Peak memory of one call, from the kernel's own accounting (Linux `/proc/self/status`).
//!
//! The resident high-water mark (`VmHWM`) is reset to the current resident size by writing `5`
//! to `/proc/self/clear_refs`; after the call, the mark minus the resident size before it is the
//! most memory the call had in use at once, the operands and output included. Buffers a thread
//! kept from an earlier call (the padded-input and patch pools) are reused, not counted again.

/// Resident kibibytes under `key` (`VmRSS`, `VmHWM`) in `/proc/self/status`.
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(key))?;
    line.trim_start_matches(key).trim_start_matches(':').split_whitespace().next()?.parse().ok()
}

/// The most bytes `call` added to the process's resident memory at any moment, or `None` where
/// the kernel does not offer the counters (not Linux, or `/proc` not writable).
pub fn peak_added_bytes(call: impl FnOnce()) -> Option<u64> {
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = status_kib("VmRSS")?;
    call();
    let high_water = status_kib("VmHWM")?;
    Some(high_water.saturating_sub(before) * 1024)
}

/// `bytes` as a short human-readable size.
pub fn format_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b => format!("{:.0} KiB", b as f64 / 1024.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_allocation_shows_in_the_peak() {
        let Some(peak) = peak_added_bytes(|| {
            let block = vec![1_u8; 64 << 20];
            std::hint::black_box(&block);
        }) else {
            return; // no /proc counters here
        };
        assert!(peak >= 60 << 20, "peak {peak} bytes for a 64 MiB block");
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(format_bytes(2048), "2 KiB");
        assert_eq!(format_bytes(3 << 20), "3.0 MiB");
        assert_eq!(format_bytes(5 << 30), "5.0 GiB");
    }
}
