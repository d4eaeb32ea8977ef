//! `sealpost serve --demo`: the whole system on one machine without internet (SPEC S7.3). An
//! embedded DNS server on loopback serves a demo platform, a demo tenant's domain with its SPF
//! include, DKIM record and DMARC policy, and the mail tester's domain with its MX pointing at
//! this node; native delivery goes to this node's checker listener. Every lookup of the process
//! goes to that server, so nothing leaves the machine, and a test mailing from the demo tenant
//! scores DKIM, SPF and DMARC pass.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context as _;
use sealpost_service::Service;
use sealpost_testdns::{TestDns, Zone};
use tokio::net::TcpListener;

use crate::config::Config;

/// The demo platform's mail domain; its HELO name and reverse DNS.
pub const PLATFORM_DOMAIN: &str = "mail.sealpost.test";
/// The demo tenant and its sending domain.
pub const TENANT: &str = "demo";
pub const TENANT_DOMAIN: &str = "client.example";
pub const SELECTOR: &str = "sealpost";
pub const SENDER: &str = "hello@client.example";
/// A domain whose SPF record does not authorise this node.
pub const SPOOFED_DOMAIN: &str = "spoofed.example";
/// The mail tester's domain, whose MX is this node.
pub const CHECKER_DOMAIN: &str = "checker.sealpost.test";

/// What the demo set up before the service opened.
pub struct Prepared {
    /// The mail tester's inbound listener, already bound so its port is known.
    pub checker_listener: TcpListener,
}

/// Fills in the configuration the demo needs and binds the checker's listener; native delivery
/// is pointed at its port, since every MX the demo DNS knows is this node.
pub async fn prepare(config: &mut Config) -> anyhow::Result<Prepared> {
    config
        .platform
        .domain
        .get_or_insert_with(|| PLATFORM_DOMAIN.to_owned());
    if config.platform.sending_ips.is_empty() {
        config.platform.sending_ips = vec!["127.0.0.0/8".to_owned()];
    }
    config
        .checker
        .domain
        .get_or_insert_with(|| CHECKER_DOMAIN.to_owned());
    let address = config
        .checker
        .listen
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    let checker_listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for the mail tester on {address}"))?;
    config.checker.listen = Some(checker_listener.local_addr()?);
    config.delivery.remote_port = checker_listener.local_addr()?.port();
    Ok(Prepared { checker_listener })
}

/// The demo tenant's first start: its signing domain with a key, and two contacts, the sender
/// and a test address of the mail tester as recipient (the only mailbox the offline demo can
/// deliver to). The domain is activated once the demo DNS publishes its key, as a tenant would.
async fn first_run(
    service: &Service,
    tenant: sealpost_domain::TenantId,
) -> anyhow::Result<sealpost_domain::SigningDomain> {
    let domain = service
        .signing_domains()
        .add_signing_domain(tenant, TENANT_DOMAIN, SELECTOR)
        .await?;
    let domain = service
        .signing_domains()
        .generate_key(tenant, domain.id)
        .await?;
    let test_address = service.mail_tester().issue_test_address(tenant).await?;
    for (name, email) in [
        ("Demo Client", SENDER.to_owned()),
        ("Mail tester", test_address.address),
    ] {
        service
            .mailings()
            .add_contact(
                tenant,
                sealpost_service::ContactForm {
                    name: name.to_owned(),
                    email,
                },
            )
            .await?;
    }
    Ok(domain)
}

/// The facts the demo prints.
pub struct Seeded {
    pub api_key: String,
    /// The demo tenant's web UI administrator: e-mail and a password for this run.
    pub sign_in: (String, String),
    /// The operator's API token for this run.
    pub operator_token: String,
    pub dns: TestDns,
    pub service: Service,
}

/// Creates the demo tenant with an active signing domain (first run only), a fresh API key,
/// a sender and a recipient contact, and starts the DNS server with the tenant's real DKIM
/// record; returns the service with its resolver pointed at that server.
pub async fn seed(service: Service, config: &Config) -> anyhow::Result<Seeded> {
    let tenant = match service.accounts().find_tenant(TENANT).await {
        Ok(tenant) => tenant,
        Err(_) => {
            service
                .accounts()
                .create_tenant(TENANT, "Demo Client Ltd")
                .await?
        }
    };
    let domain = match service
        .signing_domains()
        .find_signing_domain(tenant.id, TENANT_DOMAIN, Some(SELECTOR))
        .await
    {
        Ok(domain) => domain,
        Err(_) => first_run(&service, tenant.id).await?,
    };
    let api_key = service
        .accounts()
        .create_api_key(tenant.id, "demo")
        .await?
        .token;
    let sign_in =
        crate::commands::demo_admin(&service, sealpost_domain::UserRole::TenantAdmin(tenant.id))
            .await?;
    let record = service
        .signing_domains()
        .dns_record(tenant.id, domain.id)
        .await?;
    let include = config
        .spf_include_host()
        .unwrap_or_else(|| format!("_spf.{PLATFORM_DOMAIN}"));
    let platform = config.helo_name();
    let checker = config
        .checker
        .domain
        .clone()
        .unwrap_or_else(|| CHECKER_DOMAIN.to_owned());
    let platform_spf = sealpost_dnsauth::spf::platform_record(&config.sending_networks()?);
    let zone = Zone::new()
        .txt(&include, &[&platform_spf])
        .txt(&platform, &[&platform_spf])
        .a(&platform, Ipv4Addr::LOCALHOST)
        .ptr("1.0.0.127.in-addr.arpa", &platform)
        .txt(TENANT_DOMAIN, &[&format!("v=spf1 include:{include} ~all")])
        // Replies and bounces need a mail host; in the demo it is this node, which refuses all
        // but test addresses, so such mail fails visibly instead of leaving the machine.
        .mx(TENANT_DOMAIN, 10, &format!("mx.{checker}"))
        .txt_split(&record.name, &record.value)
        .txt(
            &format!("_dmarc.{TENANT_DOMAIN}"),
            &["v=DMARC1; p=quarantine; rua=mailto:dmarc@client.example"],
        )
        // A domain that does not authorise this node, to see what an SPF fail looks like.
        .txt(SPOOFED_DOMAIN, &["v=spf1 ip4:192.0.2.1 -all"])
        .mx(&checker, 10, &format!("mx.{checker}"))
        .a(&format!("mx.{checker}"), Ipv4Addr::LOCALHOST);
    let dns = TestDns::start(zone)
        .await
        .context("start the demo DNS server")?;
    let resolver = sealpost_dns::Resolver::new(&sealpost_dns::ResolverConfig {
        nameserver: Some(dns.addr()),
        ..sealpost_dns::ResolverConfig::default()
    })?;
    // The doctor's outbound probe connects to the mail tester's MX, this node, as delivery does.
    let mut settings = crate::commands::platform_settings(config)?;
    settings.probe.domain = checker.clone();
    let service = service
        .with_resolver(resolver)
        .with_platform_settings(settings);
    // The demo DNS carries the tenant's key, which proves the domain as it would on the
    // internet; activation asks DNS for that proof.
    service
        .signing_domains()
        .verify_sending_domain(tenant.id, TENANT_DOMAIN)
        .await
        .context("prove the demo tenant's domain through the demo DNS")?;
    if !domain.active {
        service
            .signing_domains()
            .activate(
                tenant.id,
                domain.id,
                sealpost_service::DnsGate::RequireRecord,
            )
            .await?;
    }
    Ok(Seeded {
        api_key,
        sign_in,
        operator_token: crate::commands::random_token(),
        service,
        dns,
    })
}

/// Prints what a newcomer needs: where everything listens and how to try the closed loop.
pub fn announce(seeded: &Seeded, config: &Config, http: SocketAddr) {
    println!(
        "\nDEMO MODE: nothing leaves this machine. Embedded DNS on {dns} serves {TENANT_DOMAIN} \
         (SPF, DKIM, DMARC) and {checker} (MX: this node).\n\
         Web UI: http://{http}/ (sign in as {email}, password {password})\n\
         Demo tenant: {TENANT}, API key: {key}\n\
         Operator token (tenant administration API): {operator}\n\
         Send a test mailing and read its report:\n  \
         curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' \
         -d '{{\"sender\":\"{SENDER}\"}}' http://{http}/api/v1/checker/test-mailings\n  \
         curl -s -H 'Authorization: Bearer {key}' http://{http}/api/v1/checker/reports\n",
        dns = seeded.dns.addr(),
        checker = config.checker.domain.as_deref().unwrap_or(CHECKER_DOMAIN),
        key = seeded.api_key,
        email = seeded.sign_in.0,
        password = seeded.sign_in.1,
        operator = seeded.operator_token,
    );
}
