//! DKIM tests: every verification cause produced on purpose, and interoperation with dkimpy and
//! OpenDKIM through a real DNS server on loopback.

mod causes;
mod dual;
mod interop;
mod peers;
mod support;
