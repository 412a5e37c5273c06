//! MCP prompts for the common workflows: post a job from a description, review proposals and
//! request a hire, follow an approval. Written once here; each is offered only when every tool it
//! names is enabled, so `--read-only` or `--toolsets` never advertise a workflow that cannot run.

use rmcp::model::{GetPromptResult, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::{Map, Value};

/// One workflow prompt.
#[derive(Debug, Clone, Copy)]
pub struct PromptDef {
    /// `prompts/get` name.
    pub name: &'static str,
    /// Human title.
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// (argument, description, required).
    pub args: &'static [(&'static str, &'static str, bool)],
    /// The tools the workflow uses; all must be enabled for the prompt to be listed.
    pub tools: &'static [&'static str],
    /// The instructions, with `{argument}` placeholders.
    pub template: &'static str,
}

/// Every workflow prompt.
pub const PROMPTS: &[PromptDef] = &[
    PromptDef {
        name: "opentrain_post_job",
        title: "Post a job from a description",
        description: "Turn a plain-text description into a published OpenTrain job, answering the draft's missing fields.",
        args: &[
            ("description", "What needs labeling, by whom, for how much (plain text).", true),
            ("idempotencyKey", "Your own key, so repeating the request never creates a second draft.", false),
        ],
        tools: &["opentrain_create_job_draft", "opentrain_update_job_draft_fields", "opentrain_publish_job"],
        template: "Post this data-labeling job on OpenTrain.\n\nDescription:\n{description}\n\n\
1. Call opentrain_create_job_draft with rawJobDescription set to the description{idempotencyKey}.\n\
2. For every entry in missingFields, answer its prompt from the description; where the description does not \
say (pay rate, headcount, deadlines), ask me instead of inventing a value. Send the answers with \
opentrain_update_job_draft_fields, using only the allowed values the draft lists.\n\
3. When the draft is publish-ready, show me the title, pay and headcount and ask before calling \
opentrain_publish_job.\n\
If a call fails with outcomeUnknown, check with opentrain_list_jobs before sending it again.",
    },
    PromptDef {
        name: "opentrain_review_and_hire",
        title: "Review proposals and request a hire",
        description: "Compare the candidates on a job and ask a human to co-sign the hire of the best one.",
        args: &[
            ("jobId", "The job whose proposals to review.", true),
            ("budgetUsd", "The most the first milestone may cost, in USD.", false),
        ],
        tools: &[
            "opentrain_list_proposals",
            "opentrain_get_proposal",
            "opentrain_hire_proposal",
            "opentrain_wait_for_approval",
        ],
        template: "Review the proposals on OpenTrain job {jobId} and request a hire.\n\n\
1. List them with opentrain_list_proposals (jobId {jobId}) and read the strongest few with \
opentrain_get_proposal (their interview and profile).\n\
2. Recommend one candidate to me with the reasons, the rate and the interview score{budgetUsd}.\n\
3. Only after I agree, call opentrain_hire_proposal. A hire is never done by the call: it returns a pending \
approval whose approvalUrl a human must open and confirm. Give me that link, then follow it with \
opentrain_wait_for_approval. Never call the hire again while an approval is pending.",
    },
    PromptDef {
        name: "opentrain_follow_approval",
        title: "Follow an approval",
        description: "See a pending co-sign (hire, funding, payment, contract end) through to the human's decision.",
        args: &[("approvalId", "The approval returned by hire, fund, approve or contract end.", true)],
        tools: &["opentrain_get_approval", "opentrain_wait_for_approval"],
        template: "Follow OpenTrain approval {approvalId} until a human decides.\n\n\
1. Read it with opentrain_get_approval and give me its approvalUrl and expiry: only a signed-in human can \
confirm it, nothing you call can.\n\
2. Wait with opentrain_wait_for_approval (approvalId {approvalId}); if it is still pending when the wait \
ends, tell me and wait again rather than repeating the action that created it.\n\
3. Report the outcome: confirmed (with what was executed), declined or expired.",
    },
];

impl PromptDef {
    /// The `prompts/list` entry.
    pub fn listed(&self) -> Prompt {
        let args = self
            .args
            .iter()
            .map(|(name, description, required)| {
                PromptArgument::new(*name).with_description(*description).with_required(*required)
            })
            .collect();
        Prompt::new(self.name, Some(self.description), Some(args)).with_title(self.title)
    }

    /// The `prompts/get` answer for `arguments`, or the name of a required argument that is missing.
    pub fn render(&self, arguments: &Map<String, Value>) -> Result<GetPromptResult, String> {
        let mut text = self.template.to_string();
        for (name, _, required) in self.args {
            let value = arguments.get(*name).map(|v| match v {
                Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            });
            let value = value.filter(|v| !v.is_empty());
            let filled = match (value, required) {
                (Some(v), true) => v,
                (None, true) => return Err(format!("`{name}` is required")),
                // Optional arguments read as a clause when given and vanish when not.
                (Some(v), false) => optional_clause(name, &v),
                (None, false) => String::new(),
            };
            text = text.replace(&format!("{{{name}}}"), &filled);
        }
        if let Some(unknown) = arguments.keys().find(|k| !self.args.iter().any(|(n, _, _)| n == k)) {
            return Err(format!("unknown argument `{unknown}`"));
        }
        Ok(GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)]).with_description(self.description))
    }
}

fn optional_clause(name: &str, value: &str) -> String {
    match name {
        "idempotencyKey" => format!(" and idempotencyKey {value:?}"),
        "budgetUsd" => format!(", keeping the first milestone within ${value}"),
        _ => format!(" ({name}: {value})"),
    }
}

/// The prompts whose tools are all in `enabled`.
pub fn offered(enabled: &[&str]) -> Vec<PromptDef> {
    PROMPTS.iter().filter(|p| p.tools.iter().all(|t| enabled.contains(t))).copied().collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::table;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn text(r: &GetPromptResult) -> String {
        serde_json::to_value(&r.messages)
            .map(|v| v[0]["content"]["text"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default()
    }

    #[test]
    fn every_tool_a_prompt_names_exists() {
        let names: Vec<&str> = table().iter().map(|t| t.name).collect();
        for p in PROMPTS {
            for t in p.tools {
                assert!(names.contains(t), "{} names {t}, which is not a tool", p.name);
                assert!(p.template.contains(t), "{} lists {t} but never says how to use it", p.name);
            }
        }
    }

    #[test]
    fn arguments_fill_the_template_and_optional_ones_vanish() {
        let post = PROMPTS[0];
        let r =
            post.render(&args(json!({"description": "Label 100 tweets", "idempotencyKey": "k-1"}))).expect("renders");
        let t = text(&r);
        assert!(t.contains("Label 100 tweets") && t.contains("idempotencyKey \"k-1\""), "{t}");
        let bare = text(&post.render(&args(json!({"description": "x"}))).expect("renders"));
        assert!(!bare.contains('{') && !bare.contains("idempotencyKey \""), "{bare}");
    }

    #[test]
    fn a_missing_or_unknown_argument_is_named() {
        assert_eq!(PROMPTS[2].render(&Map::new()).err().as_deref(), Some("`approvalId` is required"));
        let e = PROMPTS[2].render(&args(json!({"approvalId": "a", "aprovalId": "b"}))).err();
        assert_eq!(e.as_deref(), Some("unknown argument `aprovalId`"));
    }

    #[test]
    fn a_workflow_whose_tools_are_disabled_is_not_offered() {
        let all: Vec<&str> = table().iter().map(|t| t.name).collect();
        assert_eq!(offered(&all).len(), PROMPTS.len());
        let reads: Vec<&str> = table().iter().filter(|t| t.read_only).map(|t| t.name).collect();
        let names: Vec<&str> = offered(&reads).iter().map(|p| p.name).collect();
        assert_eq!(names, vec!["opentrain_follow_approval"], "read-only servers only follow approvals");
    }
}
