//! Cursor pagination as streams: follow `nextCursor` (and `hasMore`) until the list ends.
//!
//! Each stream holds one page at a time, so memory stays flat however long the list is.
//! One rule, [`Cursors`], decides when a list ends, for the streams here and for every face:
//! it stops when the server sends no cursor, says `hasMore: false`, or echoes the cursor it was
//! given (the updates feed does on an empty page); a cursor seen earlier (c1, c2, c1) or more
//! than [`MAX_PAGES`] pages is an error, never an endless loop.
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

use std::{collections::HashSet, future::Future};

use futures::{Stream, TryStreamExt, stream};

use crate::{Client, Error, Result, Run, generated::builder, types};

/// The most pages one listing follows: 10,000 pages of 100 is a million items, far beyond any
/// OpenTrain list; past it the server is assumed to be looping.
pub const MAX_PAGES: usize = 10_000;

/// The pagination stop rule: feed it each page's cursor and learn whether to fetch another.
///
/// ```
/// use opentrain::paginate::Cursors;
/// let mut c = Cursors::default();
/// assert_eq!(c.next(Some("c1"), None).unwrap(), Some("c1".to_string()));
/// assert_eq!(c.next(Some("c2"), Some(true)).unwrap(), Some("c2".to_string()));
/// assert!(c.next(Some("c1"), None).is_err()); // a loop, not an end
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cursors {
    current: Option<String>,
    seen: HashSet<String>,
    pages: usize,
}

impl Cursors {
    /// Starts after a cursor the caller already holds (`--cursor`), or from the first page.
    pub fn starting_at(cursor: Option<String>) -> Self {
        let mut c = Self::default();
        if let Some(cur) = cursor {
            c.seen.insert(cur.clone());
            c.current = Some(cur);
        }
        c
    }

    /// The cursor the next request should carry (`None` for the first page).
    pub fn current(&self) -> Option<&str> {
        self.current.as_deref()
    }

    /// Records a page that answered `next_cursor` and `has_more`; returns the cursor of the page
    /// to fetch next, or `None` when the list is complete.
    ///
    /// # Errors
    /// [`Error::InvalidResponse`] when the server repeats a cursor it sent before (other than the
    /// one just used) or the listing passes [`MAX_PAGES`] pages.
    pub fn next(&mut self, next_cursor: Option<&str>, has_more: Option<bool>) -> Result<Option<String>> {
        self.pages += 1;
        let next = next_cursor.filter(|n| !n.is_empty()).filter(|_| has_more != Some(false));
        let Some(next) = next else { return Ok(None) };
        if Some(next) == self.current.as_deref() {
            return Ok(None);
        }
        if self.seen.contains(next) {
            return Err(Error::InvalidResponse {
                status: None,
                reason: format!(
                    "pagination loop: the server sent cursor {:?} again after {} pages; stopped",
                    crate::redact(next),
                    self.pages
                ),
                snippet: String::new(),
            });
        }
        if self.pages >= MAX_PAGES {
            return Err(Error::InvalidResponse {
                status: None,
                reason: format!("pagination stopped after {MAX_PAGES} pages without reaching the end"),
                snippet: String::new(),
            });
        }
        self.seen.insert(next.to_string());
        self.current = Some(next.to_string());
        Ok(Some(next.to_string()))
    }
}

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
    // State: Some(cursors) = fetch the page at `cursors.current()` next; None = finished.
    stream::try_unfold((Some(Cursors::default()), fetch), |(state, fetch)| async move {
        let Some(mut cursors) = state else { return Ok::<_, crate::Error>(None) };
        let (items, next, has_more) = fetch(cursors.current().map(str::to_string)).await?.into_parts();
        let more = cursors.next(next.as_deref(), has_more)?.map(|_| cursors);
        Ok(Some((stream::iter(items.into_iter().map(Ok)), (more, fetch))))
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
pub struct MessagesOf(pub types::MessageListPage);
/// The conversation summaries (`read_messages` without a `conversationId`).
pub struct ConversationsOf(pub types::ConversationSummaryPage);

/// A page of the other mode than the one asked for: an error, never an empty list.
fn wrong_mode(asked: &str, got: &str) -> Error {
    Error::invalid_response(Some(200), format!("read_messages was asked for {asked} but answered {got}"), &[])
}

impl TryFrom<types::MessagesPage> for MessagesOf {
    type Error = Error;
    fn try_from(page: types::MessagesPage) -> Result<Self> {
        match page {
            types::MessagesPage::MessageListPage(p) => Ok(Self(p)),
            types::MessagesPage::ConversationSummaryPage(_) => Err(wrong_mode("messages", "conversation summaries")),
        }
    }
}

impl TryFrom<types::MessagesPage> for ConversationsOf {
    type Error = Error;
    fn try_from(page: types::MessagesPage) -> Result<Self> {
        match page {
            types::MessagesPage::ConversationSummaryPage(p) => Ok(Self(p)),
            types::MessagesPage::MessageListPage(_) => Err(wrong_mode("conversation summaries", "messages")),
        }
    }
}

impl types::MessagesPage {
    /// The conversation summaries (summary mode); empty for a page of messages.
    pub fn conversations(&self) -> &[types::ConversationSummary] {
        match self {
            Self::ConversationSummaryPage(p) => &p.conversations,
            Self::MessageListPage(_) => &[],
        }
    }

    /// The messages (message mode); empty for a page of conversation summaries.
    pub fn messages(&self) -> &[types::Message] {
        match self {
            Self::MessageListPage(p) => &p.messages,
            Self::ConversationSummaryPage(_) => &[],
        }
    }

    /// The cursor of the next page, in either mode.
    pub fn next_cursor(&self) -> Option<&str> {
        match self {
            Self::ConversationSummaryPage(p) => p.next_cursor.as_deref(),
            Self::MessageListPage(p) => p.next_cursor.as_deref(),
        }
    }
}

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
                        $(let page = $wrap::try_from(page)?;)?
                        Ok::<_, crate::Error>(page)
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
