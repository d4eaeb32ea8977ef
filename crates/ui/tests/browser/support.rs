//! What the browser tests share: a UI server on loopback over SQLite with a delivery loop and a
//! webhook loop, a test DNS server, an SMTP server, two tenants with their administrators and an
//! operator, and headless Chromium driven through chromedriver. No traffic leaves the loopback interface:
//! Chromium resolves every other name to nothing.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use sealpost_dnsauth::report::PlatformSpf;
use sealpost_domain::{ReputationPolicy, TenantId, UserRole};
use sealpost_service::{
    CheckerSettings, Delivery, DeliveryNode, KeyImport, Service, SystemClock, WebhookPolicy,
};
use sealpost_store::Store;
use sealpost_testdns::{TestDns, Zone};
use sealpost_vault::{MasterKey, Vault};

use crate::smtp;

pub const PASSWORD: &str = "correct horse battery";
pub const ACME_ADMIN: &str = "admin@acme.test";
pub const OTHER_ADMIN: &str = "admin@other.test";
pub const OPERATOR: &str = "ops@platform.test";
/// The password of the encrypted fixture keys (`scripts/make-key-fixtures`).
pub const FIXTURE_PASSWORD: &str = "fixture-pass";
/// The platform's SPF include, as the operator configures it; the test DNS publishes it.
pub const PLATFORM_SPF: &str = "_spf.platform.test";
/// The platform's inbound host, where return-path domains point their MX, as the operator
/// configures it.
pub const INBOUND_HOST: &str = "inbound.platform.test";

/// One browser at a time: two cores do not run several Chromiums well.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn fixture(name: &str) -> String {
    let path = workspace().join("crates/vault/resources/keys").join(name);
    std::fs::read_to_string(path).unwrap()
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where screenshots go: `target/ui-screenshots/`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("target"));
    let directory = target.join("ui-screenshots");
    std::fs::create_dir_all(&directory).unwrap();
    directory
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Harness {
    pub service: Service,
    pub acme: TenantId,
    pub other: TenantId,
    pub base: String,
    pub smtp_port: u16,
    pub received: smtp::Received,
    pub browser: Client,
    test: &'static str,
    shots: usize,
    _chromedriver: Chromedriver,
    dns: TestDns,
    /// The records the test DNS serves from the start; `publish` adds to them.
    zone: Zone,
    _directory: tempfile::TempDir,
    _profile: tempfile::TempDir,
    _browser_turn: tokio::sync::MutexGuard<'static, ()>,
}

/// What the operator configured, where a test needs another platform than the usual one.
pub struct Platform {
    /// The inbound host; `None` for a platform that cannot receive bounces.
    pub inbound_host: Option<&'static str>,
    /// When a tenant's bounce and complaint rates warn and pause its sending.
    pub reputation: ReputationPolicy,
    /// The DKIM zone tenants may delegate to; `None` for a platform that serves none.
    pub dkim_zone: Option<&'static str>,
}

impl Default for Platform {
    fn default() -> Self {
        Self {
            inbound_host: Some(INBOUND_HOST),
            reputation: ReputationPolicy::default(),
            dkim_zone: None,
        }
    }
}

impl Harness {
    /// Starts everything for the test named `test` (the screenshots' prefix).
    pub async fn start(test: &'static str) -> Self {
        Self::start_on(test, Platform::default()).await
    }

    /// Starts everything on a platform configured as `platform` says.
    pub async fn start_on(test: &'static str, platform: Platform) -> Self {
        let browser_turn = BROWSER.lock().await;
        // This test's screenshots from an earlier run go, so the folder shows this run only.
        for entry in std::fs::read_dir(screenshot_dir()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with(&format!("{test}-")) {
                std::fs::remove_file(path).unwrap();
            }
        }
        let (smtp_port, received) = smtp::start().await;
        let fixture_key = Vault::new(MasterKey::generate())
            .import(&fixture("rsa2048-pkcs8.pem"), None)
            .unwrap();
        let zone = Zone::new()
            .txt_split(
                "workplace._domainkey.client.test",
                &sealpost_domain::dkim_txt_value(&fixture_key.public_key_der()),
            )
            .txt("client.test", &["v=spf1 -all"])
            .txt(PLATFORM_SPF, &["v=spf1 ip4:127.0.0.1 -all"])
            .mx("receiver.test", 10, "mx.receiver.test")
            .mx("checker.test", 10, "mx.receiver.test")
            .a("mx.receiver.test", std::net::Ipv4Addr::LOCALHOST);
        let dns = TestDns::start(zone.clone()).await.unwrap();
        let directory = tempfile::tempdir().unwrap();
        let store = Store::connect(&sealpost_store::testing::sqlite_url(directory.path()))
            .await
            .unwrap();
        let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
            nameserver: Some(dns.addr()),
            cache: false,
            ..sealpost_dns::ResolverConfig::default()
        })
        .unwrap();
        let mut delivery = DeliveryNode::new("mta.platform.test").unwrap();
        delivery.native.port = smtp_port;
        let service = Service::open(
            store,
            Vault::new(MasterKey::generate()),
            Arc::new(SystemClock),
            resolver,
        )
        .await
        .unwrap()
        .with_relay_test(delivery.relay.clone())
        .with_platform(Some(PlatformSpf {
            include_host: PLATFORM_SPF.to_owned(),
            networks: vec!["127.0.0.1".parse().unwrap()],
        }))
        .with_checker(Some(CheckerSettings {
            domain: sealpost_domain::DomainName::parse("checker.test").unwrap(),
            spamd: None,
        }))
        .with_inbound_host(
            platform
                .inbound_host
                .map(|host| sealpost_domain::DomainName::parse(host).unwrap()),
        )
        .with_reputation_policy(platform.reputation)
        .with_dkim_zone(platform.dkim_zone.map(|zone| {
            sealpost_domain::DkimZone::new(sealpost_domain::DomainName::parse(zone).unwrap())
        }))
        // A failed webhook delivery is given up at once and its endpoint switched off, so a
        // test sees in seconds what takes days on a platform: "Send again" and the platform's
        // reason for switching an endpoint off.
        .with_webhook_policy(WebhookPolicy {
            retry_window: 0,
            disable_after: 0,
            ..WebhookPolicy::default()
        });
        let acme = service
            .accounts()
            .create_tenant("acme", "Acme Facilities")
            .await
            .unwrap();
        let other = service
            .accounts()
            .create_tenant("other", "Other Corp")
            .await
            .unwrap();
        for (email, role) in [
            (ACME_ADMIN, UserRole::TenantAdmin(acme.id)),
            (OTHER_ADMIN, UserRole::TenantAdmin(other.id)),
            (OPERATOR, UserRole::Operator),
        ] {
            service
                .accounts()
                .create_user(email, role, PASSWORD)
                .await
                .unwrap();
        }
        let worker = Delivery::new(service.clone(), delivery);
        tokio::spawn(async move {
            loop {
                if let Err(error) = worker.deliver_due("ui-test").await {
                    eprintln!("delivery round failed: {error}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let webhooks = service.webhooks();
        tokio::spawn(async move {
            loop {
                if let Err(error) = webhooks.deliver_due().await {
                    eprintln!("webhook round failed: {error}");
                }
                webhooks.wait_for_work(Duration::from_millis(200)).await;
            }
        });
        let app = sealpost_ui::router(sealpost_ui::UiState {
            service: service.clone(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        let (chromedriver, browser, profile) = open_browser().await;
        Self {
            service,
            acme: acme.id,
            other: other.id,
            base: format!("http://{address}"),
            smtp_port,
            received,
            browser,
            test,
            shots: 0,
            _chromedriver: chromedriver,
            dns,
            zone,
            _directory: directory,
            _profile: profile,
            _browser_turn: browser_turn,
        }
    }

    /// Publishes records in the test DNS beside those it served from the start, as a tenant's
    /// IT department publishes what the page asked for; `add` adds them to the starting zone.
    pub fn publish(&self, add: impl FnOnce(Zone) -> Zone) {
        self.dns.replace(add(self.zone.clone())).unwrap();
    }

    pub async fn goto(&self, path: &str) {
        self.browser
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Saves a PNG of the page as `target/ui-screenshots/<test>-<n>-<name>.png`.
    /// Saves a screenshot, after checking that no element id repeats on the page: tests and the
    /// page's own script find elements by id, and a repeated id silently finds the first.
    pub async fn shot(&mut self, name: &str) {
        let repeated = self
            .browser
            .execute(
                "const seen = new Set(); const repeated = [];
                 for (const element of document.querySelectorAll('[id]')) {
                     if (seen.has(element.id)) repeated.push(element.id);
                     seen.add(element.id);
                 }
                 return repeated;",
                Vec::new(),
            )
            .await
            .unwrap();
        assert_eq!(repeated, serde_json::json!([]), "ids repeated on {name}");
        self.shots += 1;
        let png = self.browser.screenshot().await.unwrap();
        let path = screenshot_dir().join(format!("{}-{:02}-{name}.png", self.test, self.shots));
        std::fs::write(path, png).unwrap();
    }

    /// Scrolls `selector` to the top of the window, so the next screenshot shows it.
    pub async fn scroll_to(&self, selector: &str) {
        self.browser
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView();",
                vec![selector.into()],
            )
            .await
            .unwrap();
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("#sign-in").await;
    }

    pub async fn sign_out(&self) {
        self.click("#logout").await;
        self.wait_for("#sign-in").await;
    }

    pub async fn fill(&self, selector: &str, text: &str) {
        let field = self.browser.find(Locator::Css(selector)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Sets a field's value without typing, for long texts such as a PEM key.
    pub async fn paste(&self, selector: &str, text: &str) {
        self.browser
            .execute(
                "document.querySelector(arguments[0]).value = arguments[1];",
                vec![selector.into(), text.into()],
            )
            .await
            .unwrap();
    }

    /// Clicks something that loads a new page (a submit button, a link) and waits until the
    /// new page has loaded, so the next look at the page does not see the old one.
    pub async fn click(&self, selector: &str) {
        self.browser
            .execute("window.sealpostOldPage = true;", vec![])
            .await
            .unwrap();
        self.click_in_page(selector).await;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let loaded = self
                .browser
                .execute(
                    "return window.sealpostOldPage === undefined \
                     && document.readyState === 'complete';",
                    vec![],
                )
                .await
                .is_ok_and(|value| value == serde_json::Value::Bool(true));
            if loaded {
                return;
            }
            assert!(Instant::now() < deadline, "{selector}: no new page loaded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks something that changes the page in place (a radio button, a disclosure).
    pub async fn click_in_page(&self, selector: &str) {
        self.browser
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("{selector}: {error}"))
            .click()
            .await
            .unwrap();
    }

    pub async fn wait_for(&self, selector: &str) -> fantoccini::elements::Element {
        self.browser
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("waiting for {selector}: {error}"))
    }

    pub async fn text(&self, selector: &str) -> String {
        self.wait_for(selector).await.text().await.unwrap()
    }

    /// The label of a copy button after a click: the page's script changes it once the
    /// clipboard (a promise) answers, which under load takes a moment; the label it shows after
    /// at most 5 seconds.
    pub async fn copy_result(&self, selector: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let label = self.text(selector).await;
            if label == "Copied"
                || label.starts_with("Selected")
                || std::time::Instant::now() > deadline
            {
                return label;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The whole page's visible text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Reloads the page until `selector`'s text contains `expected`, as a person presses
    /// refresh while a message is on its way.
    pub async fn refresh_until(&self, selector: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = self.text(selector).await;
            if text.contains(expected) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{selector} still reads {text:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            self.browser.refresh().await.unwrap();
        }
    }

    /// What a form field holds now, as the person would see it in the field.
    pub async fn value(&self, selector: &str) -> String {
        self.wait_for(selector)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// The error that stands next to the form field `selector`: the element the field names
    /// in `aria-describedby`, which must be inside the field's label or right after it, so a
    /// person reads it where they typed. Panics when the field has no such error.
    pub async fn error_beside(&self, selector: &str) -> String {
        let found = self
            .browser
            .execute(
                "const field = document.querySelector(arguments[0]);
                 const id = field && field.getAttribute('aria-describedby');
                 const error = id && document.getElementById(id);
                 if (!error) return 'no error named by the field';
                 const label = field.closest('label') || field;
                 if (label.contains(error) || label.nextElementSibling === error)
                   return ['beside', error.innerText];
                 return 'the error is not next to the field: ' + error.innerText;",
                vec![selector.into()],
            )
            .await
            .unwrap();
        match found.as_array().map(Vec::as_slice) {
            Some([_, text]) => text.as_str().unwrap().to_owned(),
            _ => panic!("{selector}: {found}"),
        }
    }

    pub async fn current_path(&self) -> String {
        self.browser.current_url().await.unwrap().path().to_owned()
    }

    /// The session cookie the browser holds (HttpOnly: pages cannot read it, WebDriver can).
    pub async fn session_cookie(&self) -> String {
        self.browser
            .get_named_cookie("sp_session")
            .await
            .unwrap()
            .value()
            .to_owned()
    }

    /// A raw form POST from outside the browser, as a forging site would send it; returns the
    /// status code.
    pub async fn raw_post(&self, path: &str, cookie: &str, body: &str) -> u16 {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let authority = self.base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(authority).await.unwrap();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nCookie: sp_session={cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no status in {response:?}"))
    }

    /// Gives `tenant` the active signing domain client.test with the fixture key whose record
    /// the test DNS publishes, set up through the service as an earlier session would have;
    /// activating it proves client.test by that DKIM record.
    pub async fn signing_domain(&self, tenant: TenantId) -> String {
        let domain = self
            .service
            .signing_domains()
            .add_signing_domain(tenant, "client.test", "workplace")
            .await
            .unwrap();
        let pem = fixture("rsa2048-pkcs8.pem");
        let import = KeyImport {
            pem: &pem,
            password: None,
        };
        self.service
            .signing_domains()
            .import_key(tenant, domain.id, import)
            .await
            .unwrap();
        self.service
            .signing_domains()
            .update_signing_domain(tenant, domain.id, Some(true), None)
            .await
            .unwrap();
        domain.id.to_string()
    }

    /// Submits a signed message from facilities@client.test to `recipients` through the
    /// service, as the API would, and returns its id; `signing_domain` must have run first.
    pub async fn submit(&self, tenant: TenantId, recipients: &[&str], subject: &str) -> String {
        let raw = format!(
            "From: Facilities <facilities@client.test>\r\nTo: {}\r\nSubject: {subject}\r\n\r\n\
             The boiler in building B is fixed.\r\n",
            recipients.join(", ")
        );
        let submission = sealpost_service::Submission {
            mail_from: "facilities@client.test".to_owned(),
            recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
            raw: raw.into_bytes(),
            idempotency_key: None,
            source: sealpost_domain::SubmissionSource::Http,
        };
        let accepted = self
            .service
            .submissions()
            .submit(tenant, submission)
            .await
            .unwrap();
        accepted.id.to_string()
    }

    /// Ends the browser session; chromedriver itself ends when the harness is dropped.
    pub async fn finish(self) {
        self.browser.clone().close().await.unwrap();
    }
}

/// Checks that `text` reads as a sentence for a person: a capital (or a quoted value) first, a
/// full stop last, and no API field name such as `domain:` or `return_path`.
#[track_caller]
pub fn assert_sentence(text: &str) {
    let first = text.chars().next().unwrap_or(' ');
    assert!(
        first.is_uppercase() || first == '"',
        "not a sentence: {text:?}"
    );
    assert!(text.ends_with('.'), "not a full sentence: {text:?}");
    for api_word in [
        "domain:",
        "sender:",
        "mail_from",
        "return_path",
        "q:",
        "cursor:",
        "invalid_input",
    ] {
        assert!(!text.contains(api_word), "{api_word} in {text:?}");
    }
}

/// The chromedriver process, ended when the test ends, also when it fails, with the Chromium it
/// started: they share a process group of their own, and the whole group is killed, since a
/// browser whose session was never closed outlives its chromedriver otherwise. Being a group of
/// their own, they do not get the terminal's Ctrl-C: an interrupted run, whose test never
/// reaches this drop, leaves them to be ended by hand.
struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts chromedriver on a free loopback port and a headless Chromium session through it.
async fn open_browser() -> (Chromedriver, Client, tempfile::TempDir) {
    let port = free_port();
    let chromedriver = Command::new("/usr/bin/chromedriver")
        .process_group(0)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(Chromedriver)
        .expect("start /usr/bin/chromedriver (./scripts/test installs chromium-driver)");
    let profile = tempfile::tempdir().unwrap();
    let capabilities: serde_json::Map<String, serde_json::Value> =
        serde_json::from_value(serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    "--no-first-run",
                    "--no-default-browser-check",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-extensions",
                    "--disable-default-apps",
                    "--no-proxy-server",
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        }))
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => break client,
            Err(error) if Instant::now() < deadline => {
                let _ = error;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("chromedriver did not start a browser: {error}"),
        }
    };
    (chromedriver, client, profile)
}
