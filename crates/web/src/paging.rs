//! How the API's lists page: `limit` and `cursor` in the query, the rows as the JSON array the
//! lists have always answered (so existing clients keep working), and the paging facts in
//! headers: `X-Total-Count`, the number of rows all pages hold under the filters, and
//! `X-Next-Cursor`, the `cursor` of the next page, absent on the last one.

use axum::Json;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use sealpost_service::lists::Page;
use serde::Serialize;

pub const TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");
pub const NEXT_CURSOR: HeaderName = HeaderName::from_static("x-next-cursor");

/// A page as the API answers it.
pub struct Paged<T>(pub Page<T>);

impl<T: Serialize> IntoResponse for Paged<T> {
    fn into_response(self) -> Response {
        let Page { items, total, next } = self.0;
        let mut response = Json(items).into_response();
        let headers = response.headers_mut();
        headers.insert(TOTAL_COUNT, HeaderValue::from(total));
        // A cursor is URL-safe base64, always a valid header value.
        if let Some(value) = next.and_then(|next| HeaderValue::from_str(&next.encode()).ok()) {
            headers.insert(NEXT_CURSOR, value);
        }
        response
    }
}
