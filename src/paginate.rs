//! Cursor pagination as streams: follow `nextCursor` (and `hasMore`) until the list ends.
//!
//! Each stream holds one page at a time, so memory stays flat however long the list is.
//! It stops when the server sends no cursor, says `hasMore: false`, or repeats the cursor it was
//! given (the updates feed echoes it on an empty page; anything else would loop forever).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! # async fn f(client: opentrain::Client) -> opentrain::Result<()> {
//! let mut jobs = std::pin::pin!(client.search_jobs_stream(|b| b.q("spanish").limit(50)));
//! while let Some(job) = jobs.try_next().await? {
//!     println!("{:?}", job.title);
//! }
//! # Ok(()) }
//! ```

use std::future::Future;

use futures::{Stream, TryStreamExt, stream};

use crate::{Client, Result, Run, generated::builder, types};

/// A page of a cursor-paginated list.
pub trait Page {
    /// One element of the list.
    type Item;
    /// The items, the cursor of the next page, and whether the server says more exist.
    fn into_parts(self) -> (Vec<Self::Item>, Option<String>, Option<bool>);
}

/// Streams every item of a list, calling `fetch(cursor)` for each page (`None` for the first).
pub fn paginate<'a, P, F, Fut>(fetch: F) -> impl Stream<Item = Result<P::Item>> + 'a
where
    P: Page + 'a,
    P::Item: 'a,
    F: Fn(Option<String>) -> Fut + 'a,
    Fut: Future<Output = Result<P>> + 'a,
{
    // State: Some(cursor) = fetch that page next; None = finished.
    stream::try_unfold((Some(None::<String>), fetch), |(state, fetch)| async move {
        let Some(cursor) = state else { return Ok::<_, crate::Error>(None) };
        let (items, next, has_more) = fetch(cursor.clone()).await?.into_parts();
        let next = next.filter(|n| !n.is_empty() && Some(n) != cursor.as_ref()).filter(|_| has_more != Some(false));
        Ok(Some((stream::iter(items.into_iter().map(Ok)), (next.map(Some), fetch))))
    })
    .try_flatten()
}

macro_rules! pages {
    ($($page:ty => $field:ident: $item:ty $(, more: $more:ident)?;)*) => {$(
        impl Page for $page {
            type Item = $item;
            fn into_parts(self) -> (Vec<$item>, Option<String>, Option<bool>) {
                #[allow(unused_mut, unused_assignments)]
                let mut more = None;
                $(more = self.$more;)?
                (self.$field, self.next_cursor, more)
            }
        }
    )*};
}

pages! {
    types::MyJobList => jobs: types::MyJob;
    types::PublicJobList => jobs: types::PublicJob;
    types::JobProposalList => proposals: types::JobProposalSummary;
    types::ListCreditLedgerResponse => entries: types::CreditLedgerEntry;
    types::PollUpdatesResponse => events: types::UpdateEvent, more: has_more;
}

/// The messages of one conversation (`read_messages` with a `conversationId`).
pub struct MessagesOf(pub types::MessagesPage);
/// The conversation summaries (`read_messages` without a `conversationId`).
pub struct ConversationsOf(pub types::MessagesPage);

impl Page for MessagesOf {
    type Item = types::Message;
    fn into_parts(self) -> (Vec<types::Message>, Option<String>, Option<bool>) {
        (self.0.messages, self.0.next_cursor, None)
    }
}

impl Page for ConversationsOf {
    type Item = types::ConversationSummary;
    fn into_parts(self) -> (Vec<types::ConversationSummary>, Option<String>, Option<bool>) {
        (self.0.conversations, self.0.next_cursor, None)
    }
}

macro_rules! streams {
    ($($(#[$doc:meta])* $name:ident => $op:ident($builder:ident) -> $page:ty $(as $wrap:ident)?;)*) => {
        impl Client {$(
            $(#[$doc])*
            ///
            /// `configure` sets filters and the page size on the request builder; the cursor is
            /// set by the stream.
            pub fn $name<'a>(
                &'a self,
                configure: impl Fn(builder::$builder<'a>) -> builder::$builder<'a> + 'a,
            ) -> impl Stream<Item = Result<<$page as Page>::Item>> + 'a {
                paginate(move |cursor: Option<String>| {
                    let b = configure(self.$op());
                    let b = match cursor {
                        Some(c) => b.cursor(c),
                        None => b,
                    };
                    async move {
                        let page = b.send().run().await?;
                        Ok::<_, crate::Error>($($wrap)?(page))
                    }
                })
            }
        )*}
    };
}

streams! {
    /// Every job of this account (`GET /jobs/mine`), newest first.
    list_my_jobs_stream => list_my_jobs(ListMyJobs) -> types::MyJobList;
    /// Every public job matching a search (`GET /jobs`, tokenless).
    search_jobs_stream => search_jobs(SearchJobs) -> types::PublicJobList;
    /// Every proposal on a job (`GET /jobs/{id}/proposals`).
    list_job_proposals_stream => list_job_proposals(ListJobProposals) -> types::JobProposalList;
    /// Every message of a conversation (`GET /messages?conversationId=...`); set the id in `configure`.
    messages_stream => read_messages(ReadMessages) -> MessagesOf as MessagesOf;
    /// Every conversation summary (`GET /messages` without a conversation id).
    conversations_stream => read_messages(ReadMessages) -> ConversationsOf as ConversationsOf;
    /// Every credit ledger entry (`GET /credits/ledger`), newest first.
    list_credit_ledger_stream => list_credit_ledger(ListCreditLedger) -> types::ListCreditLedgerResponse;
    /// Every account event after the cursor (`GET /updates`), oldest first, until caught up.
    /// Persist the last event's `id` and pass it as the cursor next time.
    poll_updates_stream => poll_updates(PollUpdates) -> types::PollUpdatesResponse;
}
