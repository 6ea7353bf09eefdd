#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| learnloop_fuzz_targets::tracker_import_xlsx(data));
