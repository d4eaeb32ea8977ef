//! Delivery end to end: messages accepted through the service are signed, committed, claimed,
//! looked up by MX in a real DNS server and delivered over SMTP to independent receiving servers
//! on loopback (aiosmtpd from PyPI, Postfix from Debian); what arrives passes dkimpy.

mod aiosmtpd;
mod bounces;
mod limited_receiver;
mod postfix;
mod reputation;
mod return_path;
mod shaping;
mod support;
mod suppression;
mod unsubscribe;
mod webhooks;
