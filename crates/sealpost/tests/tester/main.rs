//! The mail tester end to end with the real binary in demo mode (SPEC S7): the closed loop
//! (submit, sign, queue, deliver by MX from the embedded DNS to the inbound listener, analyse,
//! report), broken messages sent straight to the listener, and SpamAssassin's score.

mod support;

mod broken;
mod demo;
mod developer_docs;
mod doctor;
mod spam_filter;
mod troubleshoot;
