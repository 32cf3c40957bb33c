//! How the extractor treats procedural non-fingerprint images (scenes,
//! face-like drawings, blank frames, noise): `extract_nonprints [SEEDS]`
//! prints one line per image, refused (FTE and why) or accepted (minutiae,
//! quality, ridge-evidence share), and a count of those accepted.

use hoviyat_datasets::synth::clutter::{self, Clutter};
use hoviyat_engine::extract::{self, ExtractConfig};

fn main() {
    let seeds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut accepted = 0;
    let mut total = 0;
    for kind in Clutter::ALL {
        for seed in 1..=seeds {
            for (w, h) in [(300, 300), (388, 374), (640, 480)] {
                let img = clutter::render(kind, w, h, seed);
                total += 1;
                match extract::extract(&img, &ExtractConfig::default()) {
                    Ok(ex) => {
                        accepted += 1;
                        println!(
                            "{kind:?}\t{seed}\t{w}x{h}\tACCEPTED\tminutiae {}\tquality {}\tforeground {:.2}\tevidence {:.2}",
                            ex.template.minutiae.len(),
                            ex.quality,
                            ex.foreground_share,
                            ex.ridge_evidence_share
                        );
                    }
                    Err(e) => println!("{kind:?}\t{seed}\t{w}x{h}\trefused\t{e}"),
                }
            }
        }
    }
    println!("accepted {accepted} of {total}");
}
