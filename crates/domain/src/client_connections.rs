//! Counts the connections of each client address, so that one client cannot hold every slot
//! of a listener and shut the others out. Both listeners (SMTP and HTTP) use this one count;
//! it is plain bookkeeping, without I/O.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

type Counts = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// The connections open per client address, each bounded by `max_per_client`.
#[derive(Debug)]
pub struct ClientConnections {
    max_per_client: usize,
    counts: Counts,
}

/// One connection's place in its client's count, given back when dropped.
#[derive(Debug)]
pub struct ClientSlot {
    counts: Counts,
    key: IpAddr,
}

impl ClientConnections {
    pub fn new(max_per_client: usize) -> Self {
        Self {
            max_per_client,
            counts: Counts::default(),
        }
    }

    /// A slot for one more connection from `address`, or `None` when it already has as many
    /// as allowed.
    pub fn try_acquire(&self, address: IpAddr) -> Option<ClientSlot> {
        let key = client_key(address);
        let mut counts = lock(&self.counts);
        let count = counts.entry(key).or_default();
        if *count >= self.max_per_client {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            counts: Arc::clone(&self.counts),
            key,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut counts = lock(&self.counts);
        if let Some(count) = counts.get_mut(&self.key) {
            *count -= 1;
            // Addresses without connections are forgotten, so a scan from many addresses
            // leaves nothing behind.
            if *count == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

fn lock(counts: &Counts) -> MutexGuard<'_, HashMap<IpAddr, usize>> {
    // A panic while the lock was held leaves only counters behind, which are still valid.
    counts.lock().unwrap_or_else(PoisonError::into_inner)
}

/// IPv4 addresses count one by one. An IPv6 client usually holds a whole /64, so it counts
/// per /64; otherwise it could take a fresh address for every connection or attempt.
pub fn client_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = v6.to_bits() & !u128::from(u64::MAX);
            IpAddr::V6(Ipv6Addr::from_bits(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::ClientConnections;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    #[test]
    fn each_address_has_its_own_bound_and_gets_slots_back() {
        let clients = ClientConnections::new(2);
        let first = clients.try_acquire(ip("192.0.2.1")).expect("first");
        let _second = clients.try_acquire(ip("::ffff:192.0.2.1")).expect("second");
        assert!(clients.try_acquire(ip("192.0.2.1")).is_none());
        assert!(clients.try_acquire(ip("192.0.2.2")).is_some());
        drop(first);
        assert!(clients.try_acquire(ip("192.0.2.1")).is_some());
    }

    #[test]
    fn ipv6_counts_per_slash_64() {
        let clients = ClientConnections::new(1);
        let _held = clients.try_acquire(ip("2001:db8:1:2::1")).expect("first");
        assert!(clients.try_acquire(ip("2001:db8:1:2::ffff")).is_none());
        assert!(clients.try_acquire(ip("2001:db8:1:3::1")).is_some());
    }
}
