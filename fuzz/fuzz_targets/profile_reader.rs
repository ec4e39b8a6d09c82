//! Any text through the planner's profile reader; what parses must print and parse back to the
//! same profile.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(profile) = conv_core::cost::Profile::parse(&text) {
        let again = conv_core::cost::Profile::parse(&profile.to_text()).expect("printed profiles parse");
        assert_eq!(again.len(), profile.len());
    }
});
