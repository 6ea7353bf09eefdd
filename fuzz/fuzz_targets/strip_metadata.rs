#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop_fuzz_targets::strip_metadata(data));
