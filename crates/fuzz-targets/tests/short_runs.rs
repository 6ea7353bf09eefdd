#![allow(clippy::panic)]
//! Each fuzz target for about two seconds on its seed corpus and on mutations of it (byte
//! flips, interesting bytes, truncations, splices, repeats) from a fixed-seed generator: keeps
//! the targets compiling and exercised in the ordinary test suite, no nightly needed. The same
//! inputs come each run, as far as time allows; a failure saves its input for `cargo fuzz`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use learnloop_fuzz_targets::TARGETS;

const BUDGET: Duration = Duration::from_secs(2);

/// xorshift64*: small, fast and the same everywhere.
struct Generator(u64);

impl Generator {
    fn for_target(name: &str) -> Generator {
        // FNV-1a of the name, so that each target has its own stream.
        let seed = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
        Generator(seed | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `bound` (0 when `bound` is 0).
    fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            0
        } else {
            (self.next() % bound as u64) as usize
        }
    }
}

/// Bytes parsers tend to trip on: delimiters, quotes, zeros, extremes, UTF-8 lead bytes.
const INTERESTING: [u8; 16] = [
    0, 0xFF, 0x7F, 0x80, 0xC3, 0xE2, b'"', b'\'', b',', b'\n', b'\r', b'<', b'>', b'(', b')', b'\\',
];

fn mutate(generator: &mut Generator, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut input = seeds[generator.below(seeds.len())].clone();
    for _ in 0..=generator.below(4) {
        let length = input.len();
        match generator.below(7) {
            0 if length > 0 => {
                let at = generator.below(length);
                input[at] ^= 1 << generator.below(8);
            }
            1 if length > 0 => {
                let at = generator.below(length);
                input[at] = INTERESTING[generator.below(INTERESTING.len())];
            }
            2 => input.truncate(generator.below(length + 1)),
            3 => {
                // The head of this input, then the tail of another.
                let other = &seeds[generator.below(seeds.len())];
                let from = generator.below(other.len() + 1);
                input.truncate(generator.below(length + 1));
                input.extend_from_slice(&other[from..]);
            }
            4 if length > 0 => {
                // A stretch repeated, as long lines and deep nesting are made.
                let start = generator.below(length);
                let end = start + 1 + generator.below((length - start).min(64));
                let stretch = input[start..end].to_vec();
                for _ in 0..=generator.below(32) {
                    input.splice(end..end, stretch.iter().copied());
                }
            }
            5 if length > 0 => {
                let start = generator.below(length);
                let end = start + generator.below(length - start + 1);
                input.drain(start..end);
            }
            _ => {
                let at = generator.below(length + 1);
                input.insert(at, INTERESTING[generator.below(INTERESTING.len())]);
            }
        }
    }
    input
}

fn corpus(name: &str) -> Vec<Vec<u8>> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(name);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()))
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    // Sorted, so that the generator picks the same seeds on every machine.
    files.sort();
    let seeds: Vec<Vec<u8>> = files
        .iter()
        .map(|file| std::fs::read(file).unwrap_or_else(|error| panic!("{file:?}: {error}")))
        .collect();
    assert!(!seeds.is_empty(), "no seeds in {}", folder.display());
    seeds
}

/// Runs one input; on a failure, keeps the input where `cargo fuzz run <target> <file>`
/// replays it, and fails the test naming it.
fn run(name: &str, target: fn(&[u8]), input: &[u8]) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let kept = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-failure"));
        let saved = std::fs::write(&kept, input).is_ok();
        panic!(
            "{name} failed on {} bytes{}: {:?}",
            input.len(),
            if saved {
                format!(" (kept in {})", kept.display())
            } else {
                String::new()
            },
            String::from_utf8_lossy(&input[..input.len().min(400)])
        );
    }
}

fn short_run(name: &str) {
    let target = TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, function)| *function)
        .unwrap_or_else(|| panic!("no target {name}"));
    let seeds = corpus(name);
    for seed in &seeds {
        run(name, target, seed);
    }
    let mut generator = Generator::for_target(name);
    let started = Instant::now();
    let mut runs = seeds.len();
    while started.elapsed() < BUDGET {
        let input = mutate(&mut generator, &seeds);
        run(name, target, &input);
        runs += 1;
    }
    println!("{name}: {runs} inputs in {:?}", started.elapsed());
}

#[test]
fn every_target_has_a_test_and_a_corpus() {
    let tested = [
        "tracker_import_csv",
        "tracker_import_xlsx",
        "bank_holidays",
        "strip_metadata",
        "anonymise_check",
        "tracker_query",
        "search_query",
        "form_pairs",
    ];
    for (name, _) in TARGETS {
        assert!(tested.contains(&name), "{name} has no short run below");
        corpus(name);
        let wrapper = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/fuzz_targets")
            .join(format!("{name}.rs"));
        assert!(
            wrapper.is_file(),
            "no cargo-fuzz target {}",
            wrapper.display()
        );
    }
}

#[test]
fn tracker_import_csv() {
    short_run("tracker_import_csv");
}

#[test]
fn tracker_import_xlsx() {
    short_run("tracker_import_xlsx");
}

#[test]
fn bank_holidays() {
    short_run("bank_holidays");
}

#[test]
fn strip_metadata() {
    short_run("strip_metadata");
}

#[test]
fn anonymise_check() {
    short_run("anonymise_check");
}

#[test]
fn tracker_query() {
    short_run("tracker_query");
}

#[test]
fn search_query() {
    short_run("search_query");
}

#[test]
fn form_pairs() {
    short_run("form_pairs");
}
