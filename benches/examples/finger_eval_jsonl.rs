//! Development helper: evaluates minutiae dumped as JSON lines
//! (`{"file": "1_1.png", "template": {...}}`) with the all-pairs protocol.
use hoviyat_benches::fingers::{Protocol, Sample, evaluate, parse_fvc_name};

fn main() -> anyhow::Result<()> {
    let path = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: finger_eval_jsonl FILE"))?;
    let mut samples = Vec::new();
    for line in std::fs::read_to_string(&path)?
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let file = v["file"].as_str().unwrap_or_default();
        let (finger, impression) = parse_fvc_name(std::path::Path::new(file))
            .ok_or_else(|| anyhow::anyhow!("bad name {file}"))?;
        let template = serde_json::from_value(v["template"].clone())?;
        samples.push(Sample {
            finger,
            impression,
            template: Some(template),
        });
    }
    let (report, scores) = evaluate(&samples, Protocol::AllPairs)?;
    println!("{}", serde_json::to_string(&report)?);
    let mut imp = scores.impostor.clone();
    imp.sort_by(f64::total_cmp);
    let mut genuine = scores.genuine.clone();
    genuine.sort_by(f64::total_cmp);
    eprintln!("top impostors {:?}", &imp[imp.len().saturating_sub(5)..]);
    eprintln!("lowest genuine {:?}", &genuine[..genuine.len().min(12)]);
    Ok(())
}
