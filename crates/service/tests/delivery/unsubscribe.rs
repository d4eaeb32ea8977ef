//! One-click unsubscribe headers are signed (SPEC S10.4): Gmail honours List-Unsubscribe-Post
//! only when the DKIM signature covers it. dkimpy passes the signed message, whose `h=` names
//! both headers; a message without them keeps the `h=` of SPEC S4.2.

use sealpost_service::SubmitOptions;
use sealpost_store::testing;

use crate::support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unsubscribe_headers_are_covered_by_a_signature_dkimpy_passes() {
    let dns = support::dns(&["receiver.test"]).await;
    let directory = tempfile::tempdir().unwrap();
    let store = sealpost_store::Store::connect(&testing::sqlite_url(directory.path()))
        .await
        .unwrap();
    let (service, _delivery, tenant) = support::signing_service(store, &dns, 9).await;
    let service = service.with_public_url(Some("https://mail.platform.test".to_owned()));
    for one_click_unsubscribe in [true, false] {
        let accepted = service
            .submissions()
            .submit_with(
                tenant,
                support::work_order(&["ok@receiver.test"]),
                SubmitOptions {
                    one_click_unsubscribe,
                },
            )
            .await
            .unwrap();
        let message = service
            .messages()
            .message(tenant, accepted.id)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&message.raw).into_owned();
        let (passed, verdict) = support::dkimpy_verify(&dns, &message.raw);
        assert!(passed, "dkimpy: {verdict}\n{text}");
        let signed = "h=From:To:Message-ID:Subject:MIME-Version:Date";
        let with_unsubscribe = format!("{signed}:List-Unsubscribe:List-Unsubscribe-Post;");
        let unfolded = text.replace("\r\n ", " ").replace("\r\n\t", " ");
        match one_click_unsubscribe {
            true => assert!(unfolded.contains(&with_unsubscribe), "{text}"),
            false => assert!(unfolded.contains(&format!("{signed};")), "{text}"),
        }
    }
}
