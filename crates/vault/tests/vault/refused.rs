//! Every form Sealpost refuses gets its precise error, and no refusal quotes key material
//! (`refuse` checks that for each one).

use crate::{PASSWORD, check_refused, fixture, refuse};
use sealpost_vault::ImportError;

#[test]
fn refused_keys_get_precise_errors() {
    let rsa_only = "DKIM signing keys must be RSA";
    let size = "only 2048-bit keys are accepted";
    check_refused(
        &fixture("ec-pkcs8.pem"),
        None,
        ImportError::NotRsa("an EC key"),
        rsa_only,
    );
    check_refused(
        &fixture("ec-sec1.pem"),
        None,
        ImportError::NotRsa("an EC key"),
        rsa_only,
    );
    check_refused(
        &fixture("ed25519.pem"),
        None,
        ImportError::Ed25519AsRsa,
        "import it as the domain's Ed25519 key",
    );
    check_refused(
        &fixture("dsa.pem"),
        None,
        ImportError::NotRsa("a DSA key"),
        rsa_only,
    );
    check_refused(
        &fixture("rsa-pss.pem"),
        None,
        ImportError::NotRsa(
            "an RSA-PSS key, which cannot make rsa-sha256 (PKCS#1 v1.5) signatures",
        ),
        rsa_only,
    );
    check_refused(
        &fixture("rsa1024-pkcs8.pem"),
        None,
        ImportError::WrongSize(1024),
        size,
    );
    check_refused(
        &fixture("rsa1024-pkcs1.pem"),
        None,
        ImportError::WrongSize(1024),
        size,
    );
    check_refused(
        &fixture("rsa3072-pkcs8.pem"),
        None,
        ImportError::WrongSize(3072),
        size,
    );
    check_refused(
        &fixture("rsa4096-pkcs8.pem"),
        None,
        ImportError::WrongSize(4096),
        size,
    );
    check_refused(
        &fixture("rsa2048-exponent3-pkcs8.pem"),
        None,
        ImportError::PublicExponent("3".to_owned()),
        "the RSA key's public exponent is 3; DKIM verifiers expect 65537",
    );
    check_refused(
        &fixture("rsa2048-3prime-pkcs8.pem"),
        None,
        ImportError::MultiPrime(3),
        "a 3-prime RSA key, which DKIM signers do not use: make a 2-prime key with `openssl genpkey",
    );
}

#[test]
fn things_that_are_not_private_keys_are_named() {
    let certificate = fixture("certificate.pem");
    check_refused(
        &certificate,
        None,
        ImportError::Certificate,
        "certificate, not a private key",
    );
    let csr = fixture("csr.pem");
    check_refused(
        &csr,
        None,
        ImportError::CertificateRequest,
        "signing request",
    );
    let public = fixture("rsa2048-public.pem");
    check_refused(
        &public,
        None,
        ImportError::PublicKey,
        "this is a public key",
    );
    let rsa_public = fixture("rsa2048-rsa-public.pem");
    check_refused(
        &rsa_public,
        None,
        ImportError::PublicKey,
        "this is a public key",
    );
    check_refused("", None, ImportError::NotPem, "paste the whole key");
    check_refused("hello", None, ImportError::NotPem, "paste the whole key");
}

#[test]
fn broken_pem_is_refused() {
    let whole = fixture("rsa2048-pkcs8.pem");
    let cut: String = whole
        .lines()
        .take(10)
        .map(|line| format!("{line}\n"))
        .collect();
    check_refused(
        &cut,
        None,
        ImportError::Truncated("PRIVATE KEY".into()),
        "cut off",
    );

    let mut lines: Vec<&str> = whole.lines().collect();
    lines[3] = "this line is not base64!";
    let corrupted = lines.join("\n");
    let error = refuse(&corrupted, None);
    assert!(matches!(error, ImportError::Corrupted(_)), "{error:?}");

    // Valid base64 that is not a key: a line of the body removed.
    let mut lines: Vec<&str> = whole.lines().collect();
    lines.remove(5);
    let shortened = lines.join("\n");
    let error = refuse(&shortened, None);
    assert!(
        matches!(error, ImportError::Malformed(_) | ImportError::Corrupted(_)),
        "{error:?}"
    );
}

#[test]
fn passwords_are_checked() {
    for name in [
        "rsa2048-pkcs8-pbkdf2-aes256.pem",
        "rsa2048-pkcs8-scrypt-aes256.pem",
        "rsa2048-pkcs1-aes128.pem",
        "rsa2048-pkcs1-des3.pem",
    ] {
        let text = fixture(name);
        let wrong = refuse(&text, Some("not-the-password"));
        assert_eq!(wrong, ImportError::WrongPassword, "{name}");
        assert_eq!(
            wrong.to_string(),
            "the password is wrong: the key could not be decrypted with it"
        );
        let missing = refuse(&text, None);
        assert_eq!(missing, ImportError::PasswordRequired, "{name}");
        let empty = refuse(&text, Some(""));
        assert_eq!(empty, ImportError::PasswordRequired, "{name}");
    }
    for name in ["rsa2048-pkcs8.pem", "rsa2048-pkcs1.pem"] {
        let error = refuse(&fixture(name), Some(PASSWORD));
        assert_eq!(error, ImportError::PasswordNotNeeded, "{name}");
    }
}

#[test]
fn encryptions_sealpost_does_not_read_are_named() {
    let advice = "re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`";
    for password in [None, Some(PASSWORD)] {
        check_refused(
            &fixture("rsa2048-pkcs8-pbe-sha1-3des.pem"),
            password,
            ImportError::UnsupportedEncryption(
                "PKCS#12's pbeWithSHAAnd3-KeyTripleDES-CBC".to_owned(),
            ),
            advice,
        );
        check_refused(
            &fixture("rsa2048-pkcs8-pbe-md5-des.pem"),
            password,
            ImportError::UnsupportedEncryption("PKCS#5 v1.5's pbeWithMD5AndDES-CBC".to_owned()),
            advice,
        );
    }
}

#[test]
fn two_private_keys_pasted_together_are_ambiguous() {
    let two = format!(
        "{}{}",
        fixture("rsa2048-pkcs8.pem"),
        fixture("rsa1024-pkcs1.pem")
    );
    check_refused(
        &two,
        None,
        ImportError::SeveralKeys(2),
        "the text holds 2 private keys; paste one",
    );
    let same_twice = format!(
        "{}{}{}",
        fixture("rsa2048-pkcs1.pem"),
        fixture("certificate.pem"),
        fixture("rsa2048-pkcs1.pem")
    );
    check_refused(&same_twice, None, ImportError::SeveralKeys(2), "paste one");
}

/// Text whose line breaks were lost and that cannot be re-wrapped without guessing is refused
/// with the cause, and nothing of the key is quoted (a BEGIN marker used to swallow the whole
/// body into its "label").
#[test]
fn pem_whose_line_breaks_were_lost_is_never_quoted() {
    let key = fixture("rsa2048-pkcs8.pem");
    let flat = key.replace('\n', " ");
    let cut = &flat[..flat.find("-----END").unwrap()];
    check_refused(
        cut,
        None,
        ImportError::Truncated("PRIVATE KEY".to_owned()),
        "has no END line",
    );
    let mismatched = flat.replace("END PRIVATE KEY", "END RSA PRIVATE KEY");
    check_refused(
        &mismatched,
        None,
        ImportError::EndMismatch {
            begin: "PRIVATE KEY".to_owned(),
            end: "RSA PRIVATE KEY".to_owned(),
        },
        "ends with",
    );
    let damaged = flat.replacen("M", "#", 2);
    check_refused(
        &damaged,
        None,
        ImportError::NotInLines("PRIVATE KEY".to_owned()),
        "the PEM block \"PRIVATE KEY\" is not laid out in lines (its newlines were lost?)",
    );
    let marker_damaged = flat.replacen("KEY-----", "KEY ", 1);
    check_refused(
        &marker_damaged,
        None,
        ImportError::BadLabel,
        "a \"-----BEGIN\" marker without a valid label",
    );
    let long_label = format!("-----BEGIN {}-----\n", "A".repeat(5000));
    check_refused(&long_label, None, ImportError::BadLabel, "valid label");

    // A legacy encrypted key whose headers ran into each other with an unknown cipher: where the
    // IV ends and the body starts cannot be known.
    let legacy = fixture("rsa2048-pkcs1-aes128.pem")
        .replace("AES-128-CBC", "CAMELLIA-128-CBC")
        .replace('\n', "");
    check_refused(
        &legacy,
        Some(PASSWORD),
        ImportError::NotInLines("RSA PRIVATE KEY".to_owned()),
        "its newlines were lost?",
    );
}
