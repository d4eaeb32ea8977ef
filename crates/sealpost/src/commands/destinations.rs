//! `sealpost destinations`: every destination the delivering nodes sent to in the last minute,
//! with its connections, limits, throttle state and the recipients waiting for it (SPEC S12).

use sealpost_service::Service;
use sealpost_views::destinations::DestinationView;

use crate::output::Output;

pub async fn destinations(service: &Service, output: Output) -> anyhow::Result<()> {
    let reports = service.platform().destinations().await?;
    let views: Vec<DestinationView> = reports.iter().map(DestinationView::from).collect();
    output.print(&views, || match views.is_empty() {
        true => "No node has sent to any destination in the last minute.".to_owned(),
        false => views
            .iter()
            .map(DestinationView::describe)
            .collect::<Vec<_>>()
            .join("\n"),
    });
    Ok(())
}
