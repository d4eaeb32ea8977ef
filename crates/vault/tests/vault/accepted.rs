//! Every form SPEC S3.5 accepts imports to the fixture key pair, including PEM text whose line
//! breaks were lost in a copy and paste.

use crate::{PASSWORD, check_accepted, check_accepted_text, fixture, openssl_public_der, vault};

#[test]
fn every_accepted_form_imports_the_same_key() {
    check_accepted("rsa2048-pkcs8.pem", None);
    check_accepted("rsa2048-pkcs8.pem", Some(""));
    check_accepted("rsa2048-pkcs8-pbkdf2-aes256.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs8-pbkdf2-aes128.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs8-pbkdf2-des3.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs8-scrypt-aes256.pem", Some(PASSWORD));
    // PBKDF2 with HMAC-SHA1, the PKCS#5 default that OpenSSL <= 1.1.0 and Java write.
    check_accepted("rsa2048-pkcs8-pbkdf2-sha1-aes256.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1.pem", None);
    check_accepted("rsa2048-pkcs1-aes128.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1-aes192.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1-aes256.pem", Some(PASSWORD));
    check_accepted("rsa2048-pkcs1-des3.pem", Some(PASSWORD));
}

#[test]
fn keys_pasted_with_noise_around_them_import() {
    let pasted = format!(
        "  \r\n{}\r\n",
        fixture("rsa2048-pkcs1.pem").replace('\n', "\r\n")
    );
    assert_eq!(
        vault().import(&pasted, None).unwrap().public_key_der(),
        openssl_public_der()
    );
    let bundle = format!(
        "{}{}",
        fixture("certificate.pem"),
        fixture("rsa2048-pkcs8.pem")
    );
    assert_eq!(
        vault().import(&bundle, None).unwrap().public_key_der(),
        openssl_public_der()
    );
}

#[test]
fn a_key_encrypted_with_the_empty_password_imports_without_one() {
    check_accepted("rsa2048-pkcs8-empty-password.pem", None);
    check_accepted("rsa2048-pkcs8-empty-password.pem", Some(""));
    let error = vault()
        .import(&fixture("rsa2048-pkcs8-empty-password.pem"), Some(PASSWORD))
        .unwrap_err();
    assert_eq!(error, sealpost_vault::ImportError::WrongPassword);
}

/// A key whose line breaks became spaces or vanished (a common copy-and-paste accident) is
/// re-wrapped when its BEGIN and END markers and headers can be told apart without doubt.
#[test]
fn pem_whose_line_breaks_were_lost_is_rewrapped() {
    let forms = [
        ("rsa2048-pkcs8.pem", None),
        ("rsa2048-pkcs1.pem", None),
        ("rsa2048-pkcs8-pbkdf2-aes256.pem", Some(PASSWORD)),
        ("rsa2048-pkcs1-aes128.pem", Some(PASSWORD)),
        ("rsa2048-pkcs1-aes256.pem", Some(PASSWORD)),
        ("rsa2048-pkcs1-des3.pem", Some(PASSWORD)),
    ];
    for (name, password) in forms {
        let text = fixture(name);
        let spaced = text.replace('\n', " ");
        check_accepted_text(&spaced, password, &format!("{name} with spaces"));
        let joined = text.replace('\n', "");
        check_accepted_text(&joined, password, &format!("{name} with nothing"));
        let tabbed = format!("\t{}\t", text.trim_end().replace('\n', "\t"));
        check_accepted_text(&tabbed, password, &format!("{name} with tabs"));
    }
}
