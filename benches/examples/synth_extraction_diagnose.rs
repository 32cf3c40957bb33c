//! Where the extractor's false and missed minutiae lie on seeded synthetic
//! prints of one class: `synth_extraction_diagnose SEED FINGERS IMPRESSIONS
//! CLASS [OVERLAY_DIR]` (CLASS 0 arch, 1 tented arch, 2 left loop, 3 right
//! loop, 4 whorl). Each false minutia is put in one category (wrong
//! direction on a true position, duplicate of a found one, displaced,
//! spurious) and described by its distance to the nearest singular point,
//! to the background, by the local orientation coherence and by the local
//! ink range. Two checks tell false minutiae that are real minutiae of the
//! finger left out of the impression's ground truth: a match with the truth
//! drawn without its contact-edge margin, and a match with the master's
//! minutiae after a rigid fit of the impression's truth onto them (matched
//! minutiae serve as the control). The summary goes to stdout, one line per
//! minutia to stderr. With OVERLAY_DIR, each impression is drawn (truth:
//! orange squares; false: magenta rings; missed: cyan rings; singular
//! points: dots) with a close-up of each false minutia.

use hoviyat_datasets::synth::{FingerClass, FingerprintConfig, SyntheticFinger};
use hoviyat_engine::extract::accuracy::{Tolerance, angle_between};
use hoviyat_engine::extract::orientation::{BLOCK_PX, BlockField};
use hoviyat_engine::extract::{self, ExtractConfig, overlay, segment};
use hoviyat_models::Minutia;
use image::Rgb;

/// Singular points of a block orientation field by the Poincaré index over
/// the 8-block ring around each block: (x_px, y_px, +1 core / -1 delta).
fn singular_points(field: &BlockField, mask: &[bool]) -> Vec<(f32, f32, i32)> {
    // The 8-block ring, clockwise (the thinning's neighbour order): the
    // index sums orientation turns around it, whatever block it starts at.
    let ring = extract::thin::RING;
    let mut out = Vec::new();
    for by in 1..field.bh.saturating_sub(1) {
        for bx in 1..field.bw.saturating_sub(1) {
            if !mask[by * field.bw + bx] {
                continue;
            }
            let t = |k: usize| {
                let (dx, dy) = ring[k % 8];
                let b = by.wrapping_add_signed(dy as isize) * field.bw
                    + bx.wrapping_add_signed(dx as isize);
                field.theta[b]
            };
            let mut sum = 0.0f32;
            for k in 0..8 {
                let mut d = t(k + 1) - t(k);
                if d > std::f32::consts::FRAC_PI_2 {
                    d -= std::f32::consts::PI;
                } else if d < -std::f32::consts::FRAC_PI_2 {
                    d += std::f32::consts::PI;
                }
                sum += d;
            }
            let index = (sum / std::f32::consts::PI).round() as i32;
            if index != 0 {
                let c = (
                    (bx * BLOCK_PX + BLOCK_PX / 2) as f32,
                    (by * BLOCK_PX + BLOCK_PX / 2) as f32,
                );
                out.push((c.0, c.1, index.signum()));
            }
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    extracted: usize,
    truth: usize,
    false_total: usize,
    direction: usize,
    direction_errors_deg: Vec<f32>,
    duplicate: usize,
    displaced: usize,
    spurious: usize,
    near_singular: usize,
    near_border: usize,
    low_coherence: usize,
    missed: usize,
    missed_near_singular: usize,
    missed_near_border: usize,
    // Matched (true) minutiae with the same descriptors, for comparison.
    true_near_singular: usize,
    true_low_coherence: usize,
    matched: usize,
    in_margin: usize,
    in_master: usize,
    matched_in_master: usize,
    matched_ink: Vec<f32>,
    false_ink: Vec<f32>,
    matched_coh: Vec<f32>,
    false_coh: Vec<f32>,
}

fn deciles(v: &mut [f32]) -> String {
    v.sort_by(f32::total_cmp);
    (0..=10)
        .map(|k| {
            format!(
                "{:.2}",
                v.get((v.len().saturating_sub(1)) * k / 10)
                    .copied()
                    .unwrap_or(0.0)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Rigid fit of the impression's ground truth onto the master's minutiae
/// (every truth/master pair proposes one; the most inliers win): the
/// rotation (pixel frame, master to image) and one matched pair of points
/// (image, master).
#[expect(clippy::type_complexity, reason = "a diagnostic's local tuple")]
fn fit_to_master(truth: &[Minutia], master: &[Minutia]) -> Option<(f32, (f32, f32), (f32, f32))> {
    let mut best: Option<(usize, (f32, (f32, f32), (f32, f32)))> = None;
    for a in truth {
        for b in master.iter().filter(|b| b.kind == a.kind) {
            let rot = b.angle_rad - a.angle_rad;
            let (s, c) = rot.sin_cos();
            let inliers = master
                .iter()
                .filter(|m| {
                    let (dx, dy) = (m.x_px - b.x_px, m.y_px - b.y_px);
                    let (x, y) = (c * dx - s * dy + a.x_px, s * dx + c * dy + a.y_px);
                    truth.iter().any(|t| (t.x_px - x).hypot(t.y_px - y) <= 8.0)
                })
                .count();
            if best.as_ref().is_none_or(|(n, _)| inliers > *n) {
                best = Some((inliers, (rot, (a.x_px, a.y_px), (b.x_px, b.y_px))));
            }
        }
    }
    best.map(|(_, f)| f)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let num = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let seed = num(0, 1);
    let fingers = num(1, 10) as u32;
    let impressions = num(2, 2) as u32;
    let class_ix = num(3, 4) as usize;
    let dump = args.get(4).cloned();
    let class = FingerClass::ALL[class_ix.min(4)];
    let class_offset = class_ix.min(4) as u32 * fingers;
    let synth = FingerprintConfig::default();
    let tol = Tolerance::default();
    let config = ExtractConfig {
        keep_skeleton: dump.is_some(),
        ..ExtractConfig::default()
    };
    let mut t = Tally::default();
    let singular_r = 24.0f32;
    for f in 0..fingers {
        let finger = class_offset + f + 1;
        let master = SyntheticFinger::with_class(seed, finger, class, &synth);
        for impression in 1..=impressions {
            let imp = master.impression(impression, &synth);
            // The same impression with no ground-truth margin: which false
            // minutiae are real ones left out near the contact edge.
            let mut wide = synth;
            wide.impression.gt_margin_px = 0.0;
            let wide_truth = master.impression(impression, &wide).minutiae;
            let master_minutiae = master.master_minutiae();
            let to_master = fit_to_master(&imp.minutiae, &master_minutiae);
            let Ok(ex) = extract::extract(&imp.image, &config) else {
                eprintln!("finger {finger} impression {impression}: failed to extract");
                continue;
            };
            let pixels: Vec<f32> = imp.image.as_raw().iter().map(|&v| f32::from(v)).collect();
            let (w, h) = imp.image.dimensions();
            let field = BlockField::compute(&pixels, w as usize, h as usize);
            let seg = segment::segment(&field);
            let sing = singular_points(&field, &seg.mask);
            let ink_at = |x: usize, y: usize| {
                let mut v: Vec<u8> = Vec::with_capacity(225);
                for yy in y.saturating_sub(7)..(y + 8).min(h as usize) {
                    for xx in x.saturating_sub(7)..(x + 8).min(w as usize) {
                        v.push(imp.image.get_pixel(xx as u32, yy as u32).0[0]);
                    }
                }
                v.sort_unstable();
                let lo = f32::from(v[v.len() / 10]);
                let hi = f32::from(v[v.len() * 9 / 10]);
                hi - lo
            };
            let mut inks: Vec<f32> = (0..seg.mask.len())
                .filter(|&b| seg.mask[b])
                .map(|b| ink_at((b % field.bw) * BLOCK_PX + 4, (b / field.bw) * BLOCK_PX + 4))
                .collect();
            inks.sort_by(f32::total_cmp);
            let median_ink = inks.get(inks.len() / 2).copied().unwrap_or(1.0).max(1.0);
            let extracted = &ex.template.minutiae;
            let truth = &imp.minutiae;
            // One-to-one matching as in accuracy::compare, keeping who matched whom.
            let mut pairs = Vec::new();
            for (i, e) in extracted.iter().enumerate() {
                for (j, g) in truth.iter().enumerate() {
                    let d = (e.x_px - g.x_px).hypot(e.y_px - g.y_px);
                    if d <= tol.distance_px
                        && angle_between(e.angle_rad, g.angle_rad) <= tol.angle_rad
                    {
                        pairs.push((d, i, j));
                    }
                }
            }
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut e_match = vec![None; extracted.len()];
            let mut t_match = vec![None; truth.len()];
            for (_, i, j) in pairs {
                if e_match[i].is_none() && t_match[j].is_none() {
                    e_match[i] = Some(j);
                    t_match[j] = Some(i);
                }
            }
            t.extracted += extracted.len();
            t.truth += truth.len();
            let describe = |m: &Minutia| {
                let (x, y) = (m.x_px as usize, m.y_px as usize);
                let b = field.block_of(x.min(w as usize - 1), y.min(h as usize - 1));
                let ds = sing
                    .iter()
                    .map(|s| (s.0 - m.x_px).hypot(s.1 - m.y_px))
                    .fold(f32::INFINITY, f32::min);
                (
                    ds,
                    seg.border_dist[b],
                    field.local_coherence[b],
                    ink_at(x, y) / median_ink,
                )
            };
            // Is it a minutia of the master (mapped by the rigid fit)?
            let in_master_of = |e: &Minutia| {
                to_master.is_some_and(|(rot, mi, mm)| {
                    let (s, c) = rot.sin_cos();
                    let (dx, dy) = (e.x_px - mi.0, e.y_px - mi.1);
                    // Inverse rotation by rot (pixel frame).
                    let (mx, my) = (c * dx + s * dy + mm.0, -s * dx + c * dy + mm.1);
                    let angle = e.angle_rad + rot;
                    master_minutiae.iter().any(|g| {
                        (mx - g.x_px).hypot(my - g.y_px) <= 12.0
                            && angle_between(angle, g.angle_rad) <= tol.angle_rad
                    })
                })
            };
            let mut false_marks = Vec::new();
            for (i, e) in extracted.iter().enumerate() {
                let (ds, border, coh, ink) = describe(e);
                if e_match[i].is_some() {
                    t.matched_in_master += usize::from(in_master_of(e));
                    eprintln!(
                        "f{finger} i{impression} true at ({:5.1},{:5.1}) {:?} sing {ds:5.1} border {border} coh {coh:.2} ink {ink:.2}",
                        e.x_px, e.y_px, e.kind
                    );
                    t.matched_ink.push(ink);
                    t.matched_coh.push(coh);
                    t.matched += 1;
                    t.true_near_singular += usize::from(ds < singular_r);
                    t.true_low_coherence += usize::from(coh < 0.6);
                    continue;
                }
                t.false_total += 1;
                t.false_ink.push(ink);
                t.false_coh.push(coh);
                false_marks.push(*e);
                t.near_singular += usize::from(ds < singular_r);
                t.near_border += usize::from(border <= 4);
                t.low_coherence += usize::from(coh < 0.6);
                let near: Vec<(usize, f32)> = truth
                    .iter()
                    .enumerate()
                    .map(|(j, g)| (j, (e.x_px - g.x_px).hypot(e.y_px - g.y_px)))
                    .collect();
                let within = |r: f32| near.iter().filter(move |n| n.1 <= r).map(|n| n.0);
                let cat;
                let in_margin = wide_truth.iter().any(|g| {
                    (e.x_px - g.x_px).hypot(e.y_px - g.y_px) <= tol.distance_px
                        && angle_between(e.angle_rad, g.angle_rad) <= tol.angle_rad
                });
                t.in_margin += usize::from(in_margin);
                let in_master = in_master_of(e);
                t.in_master += usize::from(in_master);
                if within(tol.distance_px)
                    .any(|j| angle_between(e.angle_rad, truth[j].angle_rad) <= tol.angle_rad)
                {
                    t.duplicate += 1;
                    cat = "duplicate";
                } else if let Some(j) = within(tol.distance_px).min_by(|&a, &b| {
                    angle_between(e.angle_rad, truth[a].angle_rad)
                        .total_cmp(&angle_between(e.angle_rad, truth[b].angle_rad))
                }) {
                    t.direction += 1;
                    t.direction_errors_deg
                        .push(angle_between(e.angle_rad, truth[j].angle_rad).to_degrees());
                    eprintln!(
                        "   direction: truth {:?} {:.0} deg at ({:.0},{:.0}) matched {}; extracted {:?} {:.0} deg",
                        truth[j].kind,
                        truth[j].angle_rad.to_degrees().rem_euclid(360.0),
                        truth[j].x_px,
                        truth[j].y_px,
                        t_match[j].is_some(),
                        e.kind,
                        e.angle_rad.to_degrees().rem_euclid(360.0)
                    );
                    cat = "direction";
                } else if let Some(j) = within(2.0 * tol.distance_px).min_by(|&a, &b| {
                    let da = (e.x_px - truth[a].x_px).hypot(e.y_px - truth[a].y_px);
                    let db = (e.x_px - truth[b].x_px).hypot(e.y_px - truth[b].y_px);
                    da.total_cmp(&db)
                }) {
                    t.displaced += 1;
                    cat = "displaced";
                    let g = truth[j];
                    let (dx, dy) = (e.x_px - g.x_px, e.y_px - g.y_px);
                    let (ux, uy) = g.direction();
                    eprintln!(
                        "   displaced: truth {:?} at ({:.0},{:.0}) matched {} dist {:.1} along {:.1} across {:.1} angle {:.0}",
                        g.kind,
                        g.x_px,
                        g.y_px,
                        t_match[j].is_some(),
                        dx.hypot(dy),
                        dx * ux + dy * uy,
                        -dx * uy + dy * ux,
                        angle_between(e.angle_rad, g.angle_rad).to_degrees()
                    );
                } else {
                    t.spurious += 1;
                    cat = "spurious";
                }
                eprintln!(
                    "f{finger} i{impression} false {cat:9} margin {in_margin:5} master {in_master:5} at ({:5.1},{:5.1}) {:?} sing {ds:5.1} border {border} coh {coh:.2} ink {ink:.2}",
                    e.x_px, e.y_px, e.kind
                );
            }
            let mut missed_marks = Vec::new();
            for (j, g) in truth.iter().enumerate() {
                if t_match[j].is_some() {
                    continue;
                }
                missed_marks.push(*g);
                let (ds, border, _, _) = describe(g);
                t.missed += 1;
                t.missed_near_singular += usize::from(ds < singular_r);
                t.missed_near_border += usize::from(border <= 4);
            }
            if let Some(dir) = &dump {
                let skel = ex.skeleton.as_ref();
                let mut canvas = overlay::draw(&imp.image, &ex.template, skel, 3);
                overlay::draw_reference(&mut canvas, truth, 3);
                // False minutiae: big magenta circles; missed truths: cyan.
                for (marks, colour) in [
                    (&false_marks, Rgb([255, 0, 255])),
                    (&missed_marks, Rgb([0, 220, 255])),
                ] {
                    for m in marks.iter() {
                        let c = ((m.x_px * 3.0) as i32, (m.y_px * 3.0) as i32);
                        imageproc::drawing::draw_hollow_circle_mut(&mut canvas, c, 30, colour);
                        imageproc::drawing::draw_hollow_circle_mut(&mut canvas, c, 31, colour);
                    }
                }
                for s in &sing {
                    let c = ((s.0 * 3.0) as i32, (s.1 * 3.0) as i32);
                    let colour = if s.2 > 0 {
                        Rgb([0, 0, 0])
                    } else {
                        Rgb([120, 60, 0])
                    };
                    imageproc::drawing::draw_filled_circle_mut(&mut canvas, c, 5, colour);
                }
                // Close-ups of each false minutia, 40 px around it, on the
                // plain image and on the overlay.
                for (k, m) in false_marks.iter().enumerate() {
                    let x0 = (m.x_px as u32).saturating_sub(20).min(w - 40);
                    let y0 = (m.y_px as u32).saturating_sub(20).min(h - 40);
                    let plain = image::imageops::crop_imm(&imp.image, x0, y0, 40, 40).to_image();
                    let plain = image::imageops::resize(
                        &plain,
                        240,
                        240,
                        image::imageops::FilterType::Nearest,
                    );
                    let marked =
                        image::imageops::crop_imm(&canvas, x0 * 3, y0 * 3, 120, 120).to_image();
                    let marked = image::imageops::resize(
                        &marked,
                        240,
                        240,
                        image::imageops::FilterType::Nearest,
                    );
                    let mut both = image::RgbImage::new(480, 240);
                    image::imageops::replace(
                        &mut both,
                        &image::DynamicImage::ImageLuma8(plain).to_rgb8(),
                        0,
                        0,
                    );
                    image::imageops::replace(&mut both, &marked, 240, 0);
                    let path = format!("{dir}/s{seed}_f{finger}_i{impression}_false{k}.png");
                    if let Err(e) = both.save(&path) {
                        eprintln!("error: {path}: {e}");
                    }
                }
                let path = format!("{dir}/s{seed}_f{finger}_i{impression}.png");
                if let Err(e) = canvas.save(&path) {
                    eprintln!("error: {path}: {e}");
                }
            }
        }
    }
    let pct = |a: usize| 100.0 * a as f64 / t.false_total.max(1) as f64;
    println!(
        "{class:?} seed {seed}: truth {} extracted {} matched {} false {} missed {}",
        t.truth, t.extracted, t.matched, t.false_total, t.missed
    );
    println!(
        "false by kind: direction {} ({:.0}%), duplicate {} ({:.0}%), displaced 10-20px {} ({:.0}%), spurious >20px {} ({:.0}%)",
        t.direction,
        pct(t.direction),
        t.duplicate,
        pct(t.duplicate),
        t.displaced,
        pct(t.displaced),
        t.spurious,
        pct(t.spurious)
    );
    t.direction_errors_deg.sort_by(f32::total_cmp);
    println!(
        "direction errors (deg): {:?}",
        t.direction_errors_deg
            .iter()
            .map(|d| d.round() as i32)
            .collect::<Vec<_>>()
    );
    println!(
        "false near a singular point (<{singular_r} px) {} ({:.0}%) [matched: {} of {} = {:.0}%]; near border (<=4 blocks) {} ({:.0}%); low coherence (<0.6) {} ({:.0}%) [matched {:.0}%]",
        t.near_singular,
        pct(t.near_singular),
        t.true_near_singular,
        t.matched,
        100.0 * t.true_near_singular as f64 / t.matched.max(1) as f64,
        t.near_border,
        pct(t.near_border),
        t.low_coherence,
        pct(t.low_coherence),
        100.0 * t.true_low_coherence as f64 / t.matched.max(1) as f64,
    );
    println!(
        "false that are true minutiae left out of the ground truth by its contact-edge margin: {} ({:.0}%)",
        t.in_margin,
        pct(t.in_margin)
    );
    println!(
        "ink range deciles (p90 - p10 grey over 15 x 15 px, / print median), matched: {}",
        deciles(&mut t.matched_ink)
    );
    println!(
        "ink range deciles (p90 - p10 grey over 15 x 15 px, / print median), false:   {}",
        deciles(&mut t.false_ink)
    );
    println!(
        "coherence deciles, matched: {}",
        deciles(&mut t.matched_coh)
    );
    println!("coherence deciles, false:   {}", deciles(&mut t.false_coh));
    println!(
        "false that are minutiae of the master left out of this impression's ground truth (margin, dry patch): {} ({:.0}%) [control: matched ones found on the master {} of {}]",
        t.in_master,
        pct(t.in_master),
        t.matched_in_master,
        t.matched
    );
    println!(
        "precision {:.3}; if the master's minutiae left out of the impression truth were don't-care (neither true nor false): {:.3}",
        t.matched as f64 / t.extracted.max(1) as f64,
        t.matched as f64 / (t.extracted - t.in_master).max(1) as f64
    );
    println!(
        "missed {}: near a singular point {}, near border {}",
        t.missed, t.missed_near_singular, t.missed_near_border
    );
}
