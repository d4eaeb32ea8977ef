//! The request handler: hickory's catalog for the zone as last built, swapped whole when the keys
//! change, so a query is answered from one consistent version of the zone. Hickory parses the
//! query and answers authoritatively: the AA bit, NXDOMAIN or NODATA with the SOA for names and
//! types the zone lacks, REFUSED for names outside it.

use std::sync::{Arc, PoisonError, RwLock};

use hickory_server::net::runtime::Time;
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::Catalog;

/// The zone being served, replaced by the refresher.
#[derive(Clone)]
pub(crate) struct Current(Arc<RwLock<Arc<Catalog>>>);

impl Current {
    pub(crate) fn new(catalog: Catalog) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(catalog))))
    }

    pub(crate) fn replace(&self, catalog: Catalog) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(catalog);
    }

    fn get(&self) -> Arc<Catalog> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }
}

pub(crate) struct Handler {
    pub(crate) current: Current,
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        response_handle: R,
    ) -> ResponseInfo {
        self.current
            .get()
            .handle_request::<R, T>(request, response_handle)
            .await
    }
}
