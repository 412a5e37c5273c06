//! The README's library example: resolve credentials, search jobs, create a draft.
//! Run against a local server with `OPENTRAIN_API_BASE_URL=http://127.0.0.1:3000 cargo run --example quickstart`.
use futures::TryStreamExt;
use opentrain::{Client, Run, types::CreateJobDraftRequest};

#[tokio::main]
async fn main() -> opentrain::Result<()> {
    let client = Client::from_env()?; // OPENTRAIN_PERSONAL_API_TOKEN, else ~/.config/opentrain/cli.json
    let jobs: Vec<_> = client.search_jobs_stream(|b| b.q("spanish").limit(50)).try_collect().await?;
    println!("{} public jobs mention Spanish", jobs.len());
    let draft = CreateJobDraftRequest {
        raw_job_description: Some("Label 5,000 Spanish tweets for sentiment, $0.05 per label, 3 labelers.".into()),
        idempotency_key: Some("draft-2026-11-25-1".into()), // a retried create returns the same draft
        ..Default::default()
    };
    let created = client.create_job_draft().body(draft).send().run().await?;
    println!("draft {} ({}): {:?}", created.job_id, created.status, created.draft_url);
    Ok(())
}
