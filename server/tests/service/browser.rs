//! The console in a real headless Chromium, driven over WebDriver against a
//! real `hoviyat serve` on loopback: sign in, search with a print image,
//! compare, adjudicate, what an investigator may not do, and ids holding
//! markup shown as text.
//!
//! Needs Debian's `chromium` and `chromium-driver`; fails with how to get
//! them when they are missing. `HOVIYAT_SKIP_BROWSER=1` skips it (and says
//! so). `HOVIYAT_SCREENSHOTS=DIR` saves a PNG of each page into DIR.

use std::io::Cursor;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use hoviyat_datasets::synth::fingerprint::{FingerprintConfig, SyntheticFinger};
use serde_json::{Value, json};
use thirtyfour::extensions::query::ElementPollerWithTimeout;
use thirtyfour::prelude::*;

use crate::common::{Keys, face, finger, make_keys};

/// Finger positions every synthetic person is enrolled with.
const POSITIONS: [u8; 2] = [2, 7];
/// A reference id that would run script if it were ever parsed as markup.
const MARKUP_ID: &str = "<script>window.__pwned=1</script><img src=x onerror=window.__pwned=2>";
const MARKUP_COMMENT: &str = "same ridges <img src=x onerror=window.__pwned=3>";

/// A child process killed when the test ends, however it ends.
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first of `names` found in the directories of `path` (as PATH).
fn on_path(path: &std::ffi::OsStr, names: &[&str]) -> Option<PathBuf> {
    std::env::split_paths(path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver and Chromium from `path`, or what to install.
fn browser_tools(path: &std::ffi::OsStr) -> Result<(PathBuf, PathBuf), String> {
    match (
        on_path(path, &["chromedriver"]),
        on_path(path, &["chromium", "chromium-browser", "google-chrome"]),
    ) {
        (Some(driver), Some(browser)) => Ok((driver, browser)),
        _ => Err(
            "the console's browser test needs Chromium and its WebDriver: \
                  `apt-get install -y chromium chromium-driver` (Debian), \
                  or set HOVIYAT_SKIP_BROWSER=1 to skip it"
                .to_owned(),
        ),
    }
}

#[test]
fn missing_browser_tools_are_named_with_how_to_install_them() {
    let empty = tempfile::tempdir().unwrap();
    let err = browser_tools(empty.path().as_os_str()).unwrap_err();
    assert!(
        err.contains("apt-get install -y chromium chromium-driver"),
        "{err}"
    );
    // A driver without a browser is not enough either.
    std::fs::write(empty.path().join("chromedriver"), "").unwrap();
    assert!(browser_tools(empty.path().as_os_str()).is_err());
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts chromedriver on a free loopback port and waits until it answers.
async fn start_chromedriver(driver: &Path) -> (Reaped, String) {
    let port = free_port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {}: {e}", driver.display()));
    let mut child = Reaped(child);
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{url}/status")).send().await
            && r.status().is_success()
        {
            break;
        }
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("chromedriver exited before it answered: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not answer on {url} within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, url)
}

fn png(image: &image::GrayImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .unwrap();
    bytes
}

/// Impression `impression` of finger `position` of synthetic person `person`.
fn print(person: u64, position: u8, impression: u32) -> Vec<u8> {
    let cfg = FingerprintConfig::default();
    let finger = SyntheticFinger::new(person, u32::from(position), &cfg);
    png(&finger.impression(impression, &cfg).image)
}

/// An enrollment of synthetic person `person` with images of
/// [`POSITIONS`], impression `impression`.
fn image_enrollment(reference_id: &str, person: u64, impression: u32) -> Value {
    let fingers: Vec<Value> = POSITIONS
        .iter()
        .map(|&p| {
            let data =
                base64::engine::general_purpose::STANDARD.encode(print(person, p, impression));
            json!({ "position": p, "image": { "data": data, "dpi": 500 } })
        })
        .collect();
    json!({
        "reference_id": reference_id,
        "fingers": fingers,
        "face": face(person, u64::from(impression) - 1),
    })
}

/// An enrollment of template-only fingers (random minutiae): a gallery
/// identity that no synthetic print resembles.
fn template_enrollment(reference_id: &str, person: u64) -> Value {
    json!({
        "reference_id": reference_id,
        "fingers": POSITIONS.iter().map(|&p| finger(person, p, 0)).collect::<Vec<_>>(),
        "face": face(person, 0),
    })
}

/// The gallery: `person-1` enrolled from images, five template-only
/// identities (one whose reference id is markup), and two enrollments held
/// as potential duplicates: `held-1` (a second capture of person 1) and
/// `held-2` (the templates of `person-2` again).
async fn populate(base: &str, keys: &Keys) {
    let client = reqwest::Client::new();
    let mut bodies = vec![(image_enrollment("person-1", 1, 1), 201)];
    for p in 2..=5 {
        bodies.push((template_enrollment(&format!("person-{p}"), 100 + p), 201));
    }
    bodies.push((template_enrollment(MARKUP_ID, 109), 201));
    bodies.push((image_enrollment("held-1", 1, 2), 202));
    bodies.push((template_enrollment("held-2", 102), 202));
    for (body, expected) in bodies {
        let resp = client
            .post(format!("{base}/v1/enrollments"))
            .bearer_auth(&keys.enroller)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(status, expected, "{}: {answer}", body["reference_id"]);
    }
}

/// A DET plot, as `eval` writes them, of seeded synthetic score sets.
fn write_det_plot(dir: &Path) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let genuine: Vec<f64> = (0..2_000)
        .map(|_| 4.0 + 20.0 * rng.random_range(0.0..1.0f64).sqrt())
        .collect();
    let impostor: Vec<f64> = (0..20_000)
        .map(|_| -1.5 * rng.random_range(1e-12..1.0f64).ln())
        .collect();
    let det = hoviyat_engine::metrics::Scores::new(&genuine, &impostor).det();
    let svg = hoviyat_engine::metrics::det_svg("synthetic scores", &[("synthetic", &det)]);
    std::fs::write(dir.join("synthetic.svg"), svg).unwrap();
}

/// The browser, the page's base address and where screenshots go.
struct Console {
    driver: WebDriver,
    base: String,
    shots: Option<PathBuf>,
}

impl Console {
    async fn open(&self, route: &str) {
        self.driver
            .goto(format!("{}/console{route}", self.base))
            .await
            .unwrap();
    }

    async fn el(&self, css: &str) -> WebElement {
        let found = self
            .driver
            .query(By::Css(css))
            // A page that re-renders leaves stale elements behind: retry.
            .ignore_errors(true)
            .desc(css)
            .first()
            .await;
        match found {
            Ok(e) => e,
            Err(e) => panic!("no {css}: {e}\n--- the page:\n{}", self.page_text().await),
        }
    }

    /// What the page says, for failure messages.
    async fn page_text(&self) -> String {
        let text = match self
            .driver
            .execute(
                "return location.hash + '\\n' + document.body.innerText",
                Vec::<Value>::new(),
            )
            .await
        {
            Ok(r) => r.json().as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("(unreadable: {e})"),
        };
        let log = match self.driver.get_log("browser").await {
            Ok(entries) => entries
                .iter()
                .map(|e| format!("{e:?}"))
                .collect::<Vec<_>>()
                .join("\n"),
            Err(e) => format!("(no browser log: {e})"),
        };
        format!("{text}\n--- the browser's console:\n{log}")
    }

    /// Waits until `css` holds exactly `text`.
    async fn el_text(&self, css: &str, text: &str) -> WebElement {
        let found = self
            .driver
            .query(By::Css(css))
            .ignore_errors(true)
            .with_text(text.to_owned())
            .desc(&format!("{css} with text {text:?}"))
            .first()
            .await;
        match found {
            Ok(e) => e,
            Err(e) => panic!(
                "no {css} reading {text:?}: {e}\n--- the page:\n{}",
                self.page_text().await
            ),
        }
    }

    async fn js(&self, script: &str) -> Value {
        self.driver
            .execute(script, Vec::<Value>::new())
            .await
            .unwrap()
            .json()
            .clone()
    }

    async fn sign_in(&self, key: &str) {
        self.open("").await;
        // By keyboard: the key, then Enter submits the form.
        let input = self.el("#api-key").await;
        input.send_keys(key).await.unwrap();
        input.send_keys(Key::Enter).await.unwrap();
        self.el("#signout")
            .await
            .wait_until()
            .displayed()
            .await
            .unwrap();
    }

    async fn sign_out(&self) {
        self.el("#signout").await.click().await.unwrap();
        self.el("#api-key").await;
    }

    async fn shot(&self, name: &str) {
        let Some(dir) = &self.shots else { return };
        // Let a spinner that is still turning settle out of the picture.
        self.driver
            .query(By::Css(".spinner"))
            .wait(Duration::from_secs(30), Duration::from_millis(100))
            .not_exists()
            .await
            .unwrap();
        // The whole page, beyond the window (up to a limit).
        self.js("document.activeElement.blur(); window.scrollTo(0, 0); return true")
            .await;
        let cdp = self.driver.cdp();
        let metrics = cdp
            .send_raw("Page.getLayoutMetrics", json!({}))
            .await
            .unwrap();
        let size = &metrics["cssContentSize"];
        let clip = json!({
            "x": 0, "y": 0, "scale": 1,
            "width": size["width"].as_f64().unwrap_or(1280.0),
            "height": size["height"].as_f64().unwrap_or(1000.0).min(2400.0),
        });
        let shot = cdp
            .send_raw(
                "Page.captureScreenshot",
                json!({ "format": "png", "clip": clip, "captureBeyondViewport": true }),
            )
            .await
            .unwrap();
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Every form control on the page has a label.
    /// The paired minutiae the comparison drawing says it shows, once it
    /// is drawn.
    async fn drawn_pairs(&self) -> usize {
        self.el("svg.comparison[data-pairs]")
            .await
            .attr("data-pairs")
            .await
            .unwrap()
            .unwrap()
            .parse()
            .unwrap()
    }

    async fn assert_controls_labelled(&self) {
        let unlabelled = self
            .js(
                "return [...document.querySelectorAll('input, select, textarea')] \
                 .filter(e => e.type !== 'hidden' && e.labels.length === 0 \
                   && !e.getAttribute('aria-label')) \
                 .map(e => e.id || e.name || e.type)",
            )
            .await;
        assert_eq!(unlabelled, json!([]), "controls without a label");
    }

    /// Nothing on the page ran script smuggled in through data.
    async fn assert_no_script_ran(&self) {
        let ran = self.js("return window.__pwned === undefined").await;
        assert_eq!(ran, json!(true), "markup from the gallery ran as script");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_headless_browser() {
    if std::env::var("HOVIYAT_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        eprintln!("HOVIYAT_SKIP_BROWSER=1: the browser test of the console was skipped");
        return;
    }
    let (chromedriver, chromium) =
        match browser_tools(&std::env::var_os("PATH").unwrap_or_default()) {
            Ok(tools) => tools,
            Err(what) => panic!("{what}"),
        };

    let dir = tempfile::tempdir().unwrap();
    let keys = make_keys(dir.path());
    let det_dir = tempfile::tempdir().unwrap();
    write_det_plot(det_dir.path());
    let (server, addr) = crate::crash::start_with(
        dir.path(),
        &["--det-dir".as_ref(), det_dir.path().as_os_str()],
    );
    let _server = Reaped(server);
    let base = format!("http://{addr}");
    populate(&base, &keys).await;

    let files = tempfile::tempdir().unwrap();
    let probe_png = files.path().join("probe-person-1.png");
    std::fs::write(&probe_png, print(1, 2, 3)).unwrap();
    let not_a_print = files.path().join("not-a-print.txt");
    std::fs::write(&not_a_print, "this is no fingerprint").unwrap();
    let probe_face = files.path().join("probe-face.json");
    std::fs::write(&probe_face, face(1, 2).to_string()).unwrap();

    let (_driver_process, driver_url) = start_chromedriver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(&chromium.to_string_lossy()).unwrap();
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--hide-scrollbars",
    ] {
        caps.add_arg(arg).unwrap();
    }
    caps.set("goog:loggingPrefs", json!({ "browser": "ALL" }))
        .unwrap();
    caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))
        .unwrap();
    let driver = WebDriver::new(&driver_url, caps).await.unwrap();
    driver.set_poller(Arc::new(ElementPollerWithTimeout::new(
        Duration::from_secs(20),
        Duration::from_millis(100),
    )));
    let shots = std::env::var_os("HOVIYAT_SCREENSHOTS").map(PathBuf::from);
    if let Some(d) = &shots {
        std::fs::create_dir_all(d).unwrap();
    }
    let c = Console {
        driver,
        base,
        shots,
    };

    let outcome = tokio::spawn(scenarios(c, keys, [probe_png, not_a_print, probe_face])).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn scenarios(c: Console, keys: Keys, files: [PathBuf; 3]) {
    let [probe_png, not_a_print, probe_face] = files;
    // Sign in: a wrong key is refused with the service's message.
    c.open("").await;
    c.shot("sign-in").await;
    c.assert_controls_labelled().await;
    c.el("#api-key").await.send_keys("not-a-key").await.unwrap();
    c.el("#signin").await.click().await.unwrap();
    let error = c.el("#signin-form .error").await;
    assert!(
        error
            .text()
            .await
            .unwrap()
            .contains("a valid bearer API key"),
        "{}",
        error.text().await.unwrap()
    );
    c.el("#api-key").await.clear().await.unwrap();

    // An investigator: search, no adjudication anywhere.
    c.sign_in(&keys.investigator).await;
    assert!(
        !c.driver
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains(&keys.investigator)
    );
    c.el("nav a[data-page='search']").await;
    assert!(
        c.driver
            .query(By::Css("nav a[data-page='queue']"))
            .nowait()
            .not_exists()
            .await
            .unwrap(),
        "an investigator is offered the adjudication queue"
    );

    // Search with a print image (and a face): the mate ranks first, and the
    // id made of markup is listed as text.
    c.open("#/search").await;
    // A file that is no print: the service's message and field are shown.
    c.el("#probe-file")
        .await
        .send_keys(not_a_print.to_string_lossy().as_ref())
        .await
        .unwrap();
    c.el("#search").await.click().await.unwrap();
    let error = c.el("#search-form .error").await.text().await.unwrap();
    assert!(error.contains("field fingers[0].template"), "{error}");
    c.el("#probe-file")
        .await
        .send_keys(probe_png.to_string_lossy().as_ref())
        .await
        .unwrap();
    c.el("#face-file")
        .await
        .send_keys(probe_face.to_string_lossy().as_ref())
        .await
        .unwrap();
    c.el("#probe-position")
        .await
        .find(By::Css("option[value='2']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.el("#search").await.click().await.unwrap();
    let first = c.el("tr.candidate[data-rank='1']").await;
    assert_eq!(
        first.attr("data-reference-id").await.unwrap().as_deref(),
        Some("person-1")
    );
    let markup_row = c
        .el_text("tr.candidate td.ref", MARKUP_ID)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(markup_row, MARKUP_ID);
    assert!(
        c.driver
            .query(By::Css("tr.candidate script, tr.candidate img"))
            .nowait()
            .not_exists()
            .await
            .unwrap(),
        "a reference id became elements"
    );
    c.assert_no_script_ran().await;
    let meaning = c.el("tr.candidate[data-rank='1'] td:nth-child(4)").await;
    assert!(
        meaning.text().await.unwrap().contains("impostors"),
        "{}",
        meaning.text().await.unwrap()
    );
    c.shot("search").await;
    c.assert_controls_labelled().await;

    // Compare the probe with its mate: paired minutiae joined by lines.
    first
        .find(By::Css("button.compare"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let pairs = c.drawn_pairs().await;
    assert!(pairs >= 8, "only {pairs} paired minutiae drawn for a mate");
    let first_drawing_lines = c
        .js("return document.querySelector('svg.comparison').querySelectorAll('line.pair-line').length")
        .await;
    assert_eq!(first_drawing_lines, json!(pairs));
    let marks = c
        .js("return document.querySelector('svg.comparison').querySelectorAll('.minutia.paired').length")
        .await;
    assert_eq!(
        marks,
        json!(2 * pairs),
        "each pair marks both of its minutiae"
    );
    c.el("svg.comparison image").await;
    c.shot("compare").await;
    c.assert_controls_labelled().await;

    // The same print of unknown position: compared with every finger, the
    // mate still first, its right index found and paired.
    c.el("a.back").await.click().await.unwrap();
    c.el("#probe-position option[value='0']")
        .await
        .click()
        .await
        .unwrap();
    c.el("#search").await.click().await.unwrap();
    let first = c
        .el("#results[data-searches='2'] tr.candidate[data-rank='1']")
        .await;
    assert_eq!(
        first.attr("data-reference-id").await.unwrap().as_deref(),
        Some("person-1")
    );
    first
        .find(By::Css("button.compare"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.el_text(
        ".comparison-block h3",
        "unknown (0) against right index (2)",
    )
    .await;
    let pairs = c.drawn_pairs().await;
    assert!(
        pairs >= 8,
        "only {pairs} pairs for a print of unknown position"
    );

    // An investigator looks up the held enrollment: its status, no decision.
    c.open("#/lookup/held-1").await;
    c.el_text("#enrollment-status", "held: potential duplicate")
        .await;
    assert!(
        c.driver
            .query(By::Css("#decision, #decide"))
            .nowait()
            .not_exists()
            .await
            .unwrap(),
        "an investigator is offered a decision"
    );
    c.open("#/queue").await;
    c.el_text("h1", "Not available").await;

    // The markup id looked up: shown as text, nothing ran.
    c.open("#/lookup").await;
    c.el("#lookup-id").await.send_keys(MARKUP_ID).await.unwrap();
    c.el("#lookup").await.click().await.unwrap();
    c.el_text("#enrollment h2.ref", MARKUP_ID).await;
    c.assert_no_script_ran().await;
    c.sign_out().await;
    assert_eq!(
        c.js("return sessionStorage.length + localStorage.length")
            .await,
        json!(0),
        "the key outlived sign-out"
    );

    // An adjudicator: the queue, the comparison, a decision.
    c.sign_in(&keys.adjudicator).await;
    c.open("#/queue").await;
    let held = c.el("tr.held[data-reference-id='held-1']").await;
    c.shot("queue").await;
    held.find(By::Css("a.open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.el_text("#enrollment-status", "held: potential duplicate")
        .await;
    let candidate = c.el("tr.candidate[data-reference-id='person-1']").await;
    candidate
        .find(By::Css("button.compare"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let pairs = c.drawn_pairs().await;
    assert!(pairs >= 8, "only {pairs} pairs between held-1 and person-1");
    c.el("a.back").await.click().await.unwrap();
    c.el("#decision").await;
    c.el("#decision input[value='duplicate']")
        .await
        .click()
        .await
        .unwrap();
    c.el("#decision-comment")
        .await
        .send_keys(MARKUP_COMMENT)
        .await
        .unwrap();
    c.shot("adjudication").await;
    c.assert_controls_labelled().await;
    c.el("#decide").await.click().await.unwrap();
    c.el_text("#enrollment-status", "confirmed duplicate").await;
    c.el_text("#verdict", "duplicate").await;
    c.el_text("#verdict-by", "adam-adjudicator").await;
    c.el_text("#decision-made dd", MARKUP_COMMENT).await;
    c.assert_no_script_ran().await;
    assert!(
        c.driver
            .query(By::Css("#decision"))
            .nowait()
            .not_exists()
            .await
            .unwrap(),
        "a decided enrollment still offers a decision"
    );
    c.open("#/queue").await;
    c.el("tr.held[data-reference-id='held-2']").await;
    assert!(
        c.driver
            .query(By::Css("tr.held[data-reference-id='held-1']"))
            .nowait()
            .not_exists()
            .await
            .unwrap(),
        "a decided enrollment is still queued"
    );
    c.sign_out().await;

    // An admin: statistics, the audit chain and log, keys.
    c.sign_in(&keys.admin).await;
    c.open("#/lookup/held-1").await;
    c.el_text("#enrollment-status", "confirmed duplicate").await;
    c.shot("lookup").await;
    c.assert_controls_labelled().await;
    c.open("#/admin").await;
    c.el_text("#chain-intact", "intact").await;
    c.el("#audit-log tr[data-seq]").await;
    c.el_text("#audit-log td", MARKUP_COMMENT).await;
    c.el("#keys tbody tr").await;
    let key_rows = c.driver.find_all(By::Css("#keys tbody tr")).await.unwrap();
    assert_eq!(key_rows.len(), 4, "four keys were made");
    c.el("#stats dl").await;
    let plot = c.el("#det img").await;
    plot.wait_until()
        .condition(Box::new(|e: WebElement| {
            Box::pin(async move { Ok(e.prop("naturalWidth").await?.is_some_and(|w| w != "0")) })
        }))
        .await
        .unwrap();
    c.assert_no_script_ran().await;
    c.shot("admin").await;
    c.assert_controls_labelled().await;
    c.sign_out().await;

    // The page broke no rule of its policy and threw no error on the way.
    let log = c.driver.get_log("browser").await.unwrap();
    let bad: Vec<_> = log
        .iter()
        .filter(|e| {
            e.message.contains("Content Security Policy")
                || (e.level == "SEVERE" && e.source.as_deref() == Some("javascript"))
        })
        .map(|e| e.message.clone())
        .collect();
    assert!(bad.is_empty(), "the browser's console: {bad:#?}");

    c.driver.quit().await.unwrap();
}
