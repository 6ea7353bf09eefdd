#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop_fuzz_targets::form_pairs(data));
