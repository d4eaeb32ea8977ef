//! Answers kept for one check of a tenant's record: [`super::check_tenant_spf`] evaluates the
//! same record for each end of each platform network and walks it twice more, and a receiver's
//! resolver would answer those repeats from its cache. Asking the server once per name and type
//! keeps a check, and the scheduled re-check of many domains, to the lookups it needs; the
//! answers, temporary failures included, are the same ones every evaluation of the check sees.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use sealpost_dns::{LookupError, TxtRecord};

use super::SpfDns;

type Answers<T> = Mutex<HashMap<String, Result<T, LookupError>>>;

/// An [`SpfDns`] that asks `dns` once per name and type and then repeats its answer.
pub(crate) struct Memo<'a, D> {
    dns: &'a D,
    txt: Answers<Vec<TxtRecord>>,
    a: Answers<Vec<Ipv4Addr>>,
    aaaa: Answers<Vec<Ipv6Addr>>,
    mx: Answers<Vec<(u16, String)>>,
}

impl<'a, D: SpfDns> Memo<'a, D> {
    pub(crate) fn new(dns: &'a D) -> Self {
        Self {
            dns,
            txt: Mutex::default(),
            a: Mutex::default(),
            aaaa: Mutex::default(),
            mx: Mutex::default(),
        }
    }
}

/// The answer kept for `name`, or `ask`'s, which is then kept. The lock is never held across the
/// lookup.
async fn remembered<T: Clone, F>(
    answers: &Answers<T>,
    name: &str,
    ask: impl FnOnce() -> F,
) -> Result<T, LookupError>
where
    F: Future<Output = Result<T, LookupError>>,
{
    let key = name.to_ascii_lowercase();
    if let Some(answer) = answers.lock().expect("answers lock").get(&key) {
        return answer.clone();
    }
    let answer = ask().await;
    answers
        .lock()
        .expect("answers lock")
        .insert(key, answer.clone());
    answer
}

impl<D: SpfDns> SpfDns for Memo<'_, D> {
    async fn txt(&self, name: &str) -> Result<Vec<TxtRecord>, LookupError> {
        remembered(&self.txt, name, || self.dns.txt(name)).await
    }

    async fn a(&self, name: &str) -> Result<Vec<Ipv4Addr>, LookupError> {
        remembered(&self.a, name, || self.dns.a(name)).await
    }

    async fn aaaa(&self, name: &str) -> Result<Vec<Ipv6Addr>, LookupError> {
        remembered(&self.aaaa, name, || self.dns.aaaa(name)).await
    }

    async fn mx(&self, name: &str) -> Result<Vec<(u16, String)>, LookupError> {
        remembered(&self.mx, name, || self.dns.mx(name)).await
    }

    async fn ptr(&self, ip: IpAddr) -> Result<Vec<String>, LookupError> {
        self.dns.ptr(ip).await
    }
}
