//! Matcher robustness on seeded synthetic minutiae impressions: EER, FMR100,
//! FMR1000, ZeroFMR and FNMR at 3 calibrated decades per perturbation (200
//! mates and 39,800 impostors each; probes are default impressions).
//! `cargo run --release -p hoviyat-benches --example finger_robustness`
use hoviyat_datasets::minutiae_impressions::{Master, Perturbation};
use hoviyat_engine::finger::{PreparedProbe, encode_gallery};
use hoviyat_engine::metrics::VerificationReport;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
fn main() -> anyhow::Result<()> {
    let n = 200;
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let masters: Vec<Master> = (0..n).map(|_| Master::generate(&mut rng)).collect();
    let d = Perturbation::default();
    let probes: Vec<PreparedProbe> = masters
        .iter()
        .map(|m| PreparedProbe::new(&m.impression(&d, &mut rng)))
        .collect::<Result<_, _>>()?;
    let conds = [
        ("default", d.clone()),
        ("partial300x200", Perturbation::partial()),
        (
            "partial200x200",
            Perturbation {
                window_px: (200, 200),
                ..d.clone()
            },
        ),
        ("distort8", Perturbation::distorted()),
        (
            "distort12",
            Perturbation {
                distortion_px: 12.0,
                ..d.clone()
            },
        ),
        (
            "rotate60",
            Perturbation {
                max_rotation_rad: 1.05,
                ..d.clone()
            },
        ),
        (
            "noisy",
            Perturbation {
                missing: 0.3,
                spurious: 0.3,
                position_noise_px: 3.0,
                angle_noise_rad: 0.2,
                ..d.clone()
            },
        ),
    ];
    for (name, p) in conds {
        let blobs: Vec<Vec<u8>> = masters
            .iter()
            .map(|m| encode_gallery(&m.impression(&p, &mut rng)))
            .collect::<Result<_, _>>()?;
        let (mut g, mut im) = (Vec::new(), Vec::new());
        let mut cal3 = 0;
        for (i, pr) in probes.iter().enumerate() {
            for (k, b) in blobs.iter().enumerate() {
                let s = pr.score(b)?;
                let v = f64::from(s.log10_fmr) + 1e-6 * f64::from(s.raw);
                if i == k {
                    g.push(v);
                    cal3 += usize::from(s.log10_fmr < 3.0);
                } else {
                    im.push(v);
                }
            }
        }
        let r = VerificationReport::new(&g, &im);
        println!(
            "{name:16} eer {:.4} fmr100 {:.4} fmr1000 {:.4} zero_fmr {:.4} fnmr@cal3 {:.4} (gen {} imp {})",
            r.eer,
            r.fmr100,
            r.fmr1000,
            r.zero_fmr,
            cal3 as f64 / g.len() as f64,
            g.len(),
            im.len()
        );
    }
    Ok(())
}
