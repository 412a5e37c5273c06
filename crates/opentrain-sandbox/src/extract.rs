//! The job field catalog, an honest plain-text extractor (it reads only what is literally stated:
//! title, pay type and rate, headcount, languages, data volume, experience level) and the draft
//! validation that drives the gap-filling loop.

use serde_json::{Map, Value, json};

pub(crate) const PAYMENT_TYPES: [&str; 3] = ["PAY_PER_LABEL", "PAY_PER_HOUR", "FIXED_PRICE"];
pub(crate) const EXPERIENCE_LEVELS: [&str; 4] = ["EXPERT", "ENTRY_LEVEL", "INTERMEDIATE", "ANY_EXPERIENCE_LEVEL"];
pub(crate) const VOLUME_UNITS: [&str; 4] =
    ["HOURS_OF_RECORDING_AUDIO_VIDEO", "NUMBER_OF_FILES", "NUMBER_OF_WORDS", "UNKNOWN_NOT_SPECIFIED"];
pub(crate) const IMPORT_FORMATS: [&str; 5] =
    ["text", "opentrain_canonical", "schema_org_job_posting", "indeed_xml", "hr_xml"];

/// The keys the draft and live-job PATCH endpoints accept, in the documented order.
pub(crate) const UPDATE_KEYS: [&str; 26] = [
    "jobTitle",
    "jobDescription",
    "paymentType",
    "pricePerHour",
    "pricePerLabel",
    "fixedPrice",
    "experienceLevel",
    "dataVolumeUnit",
    "dataVolume",
    "headcount",
    "languages",
    "countries",
    "labelTypes",
    "labelingOverview",
    "datasetDescription",
    "dataType",
    "subjectMatter",
    "labelingSoftware",
    "aiInterviewRequirements",
    "budgetRange",
    "workloadDesc",
    "timeRequirement",
    "projectDuration",
    "freelancerType",
    "projectScope",
    "visibility",
];

const LANGUAGES: [&str; 36] = [
    "English",
    "Spanish",
    "French",
    "German",
    "Portuguese",
    "Italian",
    "Dutch",
    "Swedish",
    "Norwegian",
    "Danish",
    "Finnish",
    "Polish",
    "Czech",
    "Romanian",
    "Hungarian",
    "Greek",
    "Turkish",
    "Russian",
    "Ukrainian",
    "Arabic",
    "Hebrew",
    "Persian",
    "Hindi",
    "Bengali",
    "Urdu",
    "Tamil",
    "Chinese",
    "Mandarin",
    "Cantonese",
    "Japanese",
    "Korean",
    "Vietnamese",
    "Thai",
    "Indonesian",
    "Tagalog",
    "Swahili",
];

/// The rate key that goes with a payment type.
pub(crate) fn rate_key(payment_type: &str) -> Option<&'static str> {
    match payment_type {
        "PAY_PER_HOUR" => Some("pricePerHour"),
        "PAY_PER_LABEL" => Some("pricePerLabel"),
        "FIXED_PRICE" => Some("fixedPrice"),
        _ => None,
    }
}

/// What a parser made of an input.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub fields: Map<String, Value>,
    pub low_confidence: Vec<String>,
    pub warnings: Vec<String>,
    pub unmapped: Vec<Value>,
}

/// Reads a plain-text description.
pub(crate) fn from_text(text: &str) -> Extracted {
    let mut out = Extracted::default();
    let text = text.trim();
    out.fields.insert("jobDescription".into(), text.into());
    if let Some((title, guessed)) = title(text) {
        out.fields.insert("jobTitle".into(), title.into());
        if guessed {
            out.low_confidence.push("jobTitle".into());
        }
    }
    if let Some((kind, rate)) = pay(text) {
        out.fields.insert("paymentType".into(), kind.into());
        if let Some(k) = rate_key(kind) {
            out.fields.insert(k.into(), rate.into());
        }
    }
    let words = tokens(text);
    if let Some(n) = headcount(&words) {
        out.fields.insert("headcount".into(), n.into());
    }
    let langs = languages(&words);
    if !langs.is_empty() {
        out.fields.insert("languages".into(), langs.into());
    }
    if let Some((n, unit)) = volume(&words) {
        out.fields.insert("dataVolume".into(), n.into());
        match unit {
            Some(u) => {
                out.fields.insert("dataVolumeUnit".into(), u.into());
            }
            None => out.low_confidence.push("dataVolume".into()),
        }
    }
    if let Some(level) = experience(&text.to_lowercase()) {
        out.fields.insert("experienceLevel".into(), level.into());
        out.low_confidence.push("experienceLevel".into());
    }
    if text.chars().count() < 40 {
        out.warnings
            .push("The description is very short; candidates decide on it, so say what to label and how.".into());
    }
    out
}

/// The first line when the text has several, else the first clause of a one-liner (a guess).
fn title(text: &str) -> Option<(String, bool)> {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next()?;
    let has_more = lines.next().is_some();
    let clean = |s: &str| s.trim().trim_end_matches(['.', ':', ',', ';', '!']).trim().to_string();
    if has_more && first.chars().count() <= 100 {
        return Some((clean(first.trim_start_matches('#')), false));
    }
    let end = [". ", ", ", "; ", " - ", ": "].iter().filter_map(|sep| first.find(sep)).min().unwrap_or(first.len());
    let clause = clean(&first[..end]);
    let n = clause.chars().count();
    (5..=80).contains(&n).then_some((clause, true))
}

/// A dollar amount right after `$` (commas, decimals and a `k` suffix allowed).
fn amount_at(s: &str) -> Option<(f64, usize)> {
    let mut end = 0;
    let mut digits = String::new();
    for (i, c) in s.char_indices() {
        match c {
            '0'..='9' | '.' => digits.push(c),
            ',' if s[i + 1..].starts_with(|d: char| d.is_ascii_digit()) => {}
            _ => break,
        }
        end = i + c.len_utf8();
    }
    let digits = digits.trim_end_matches('.');
    let mut n: f64 = digits.parse().ok()?;
    if s[end..].starts_with(['k', 'K']) && !s[end + 1..].starts_with(|c: char| c.is_alphabetic()) {
        n *= 1000.0;
        end += 1;
    }
    Some((n, end))
}

/// Pay type and rate from phrases like `$0.05 per label`, `$18/hr`, `fixed price of $500`.
fn pay(text: &str) -> Option<(&'static str, f64)> {
    let lower = text.to_lowercase();
    for (at, _) in lower.match_indices('$') {
        let Some((n, len)) = amount_at(&lower[at + 1..]) else { continue };
        let after_start = at + 1 + len;
        let after: String = lower[after_start..].chars().take(28).collect();
        let before: String = {
            let b: Vec<char> = lower[..at].chars().collect();
            b[b.len().saturating_sub(28)..].iter().collect()
        };
        let per_label = [
            "per label",
            "/label",
            "a label",
            "per annotation",
            "/annotation",
            "per item",
            "/item",
            "per task",
            "/task",
            "per judgment",
            "per judgement",
            "each",
        ];
        let per_hour = ["per hour", "/hour", "/hr", "an hour", "per hr", "hourly", " hr", "/h "];
        let fixed = ["fixed", "flat", "total", "budget", "for the whole", "for the project", "lump sum"];
        if per_hour.iter().any(|p| after.starts_with(p) || after.trim_start().starts_with(p.trim_start()))
            || before.ends_with("hourly rate of ")
        {
            return Some(("PAY_PER_HOUR", n));
        }
        if per_label.iter().any(|p| after.trim_start().starts_with(p.trim_start())) {
            return Some(("PAY_PER_LABEL", n));
        }
        if fixed.iter().any(|p| before.contains(p) || after.trim_start().starts_with(p)) {
            return Some(("FIXED_PRICE", n));
        }
    }
    None
}

/// Words and numbers in order; `5,000` and `2.5k` stay one token, `$` marks money.
fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let joins_number = (c == ',' || c == '.')
            && cur.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        if c.is_alphanumeric() || joins_number || (c == '$' && cur.is_empty()) || (c == '-' && !cur.is_empty()) {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn number(tok: &str) -> Option<f64> {
    let words = [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "fifteen",
        "twenty",
    ];
    let values = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 15.0, 20.0];
    let lower = tok.to_lowercase();
    if let Some(i) = words.iter().position(|w| *w == lower) {
        return Some(values[i]);
    }
    let (digits, mult) = match lower.strip_suffix('k') {
        Some(d) => (d, 1000.0),
        None => (lower.as_str(), 1.0),
    };
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    digits.replace(',', "").parse::<f64>().ok().map(|n| n * mult)
}

fn stem(word: &str) -> String {
    let w = word.to_lowercase();
    w.strip_suffix("s").filter(|s| s.len() > 2).map(str::to_string).unwrap_or(w)
}

/// `3 labelers`, `two native Spanish annotators`, `hire 5 people`.
fn headcount(words: &[String]) -> Option<i64> {
    let roles = [
        "labeler",
        "labeller",
        "annotator",
        "trainer",
        "people",
        "person",
        "freelancer",
        "worker",
        "contributor",
        "transcriber",
        "rater",
        "linguist",
        "reviewer",
        "translator",
        "tagger",
        "expert",
        "speaker",
        "tester",
    ];
    for (i, w) in words.iter().enumerate() {
        let Some(n) = number(w) else { continue };
        if !(1.0..=500.0).contains(&n) || n.fract() != 0.0 {
            continue;
        }
        if words[i + 1..].iter().take(3).any(|next| roles.contains(&stem(next).as_str())) {
            return Some(n as i64);
        }
    }
    None
}

fn languages(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        if let Some(l) = LANGUAGES.iter().find(|l| **l == w.as_str())
            && !out.iter().any(|o| o == l)
        {
            out.push(l.to_string());
        }
    }
    out
}

/// `5,000 tweets`, `120 hours of audio`, `20k words`. The unit is only set when the text names
/// one of the documented units; other nouns give a volume without a unit.
fn volume(words: &[String]) -> Option<(f64, Option<&'static str>)> {
    let files = ["file", "image", "photo", "document", "pdf", "video", "clip", "recording", "screenshot", "page"];
    let items = [
        "tweet",
        "post",
        "text",
        "sentence",
        "review",
        "comment",
        "item",
        "example",
        "sample",
        "conversation",
        "message",
        "query",
        "querie",
        "prompt",
        "response",
        "record",
        "row",
        "label",
        "transcript",
        "dialogue",
    ];
    for (i, w) in words.iter().enumerate() {
        if w.starts_with('$') {
            continue;
        }
        let Some(n) = number(w) else { continue };
        if n < 1.0 {
            continue;
        }
        let next: Vec<String> = words[i + 1..].iter().take(4).map(|s| stem(s)).collect();
        let Some(first) = next.first() else { continue };
        if first == "hour"
            && next.iter().skip(1).any(|s| ["audio", "video", "recording", "speech", "footage"].contains(&s.as_str()))
        {
            return Some((n, Some("HOURS_OF_RECORDING_AUDIO_VIDEO")));
        }
        if first == "word" {
            return Some((n, Some("NUMBER_OF_WORDS")));
        }
        // Adjectives may sit between the number and the noun: "5,000 Spanish tweets".
        for noun in next.iter().take(3) {
            if files.contains(&noun.as_str()) {
                return Some((n, Some("NUMBER_OF_FILES")));
            }
            if items.contains(&noun.as_str()) && n >= 20.0 {
                return Some((n, None));
            }
        }
    }
    None
}

fn experience(lower: &str) -> Option<&'static str> {
    if lower.contains("any experience") {
        Some("ANY_EXPERIENCE_LEVEL")
    } else if lower.contains("entry level") || lower.contains("entry-level") || lower.contains("beginner") {
        Some("ENTRY_LEVEL")
    } else if lower.contains("intermediate") {
        Some("INTERMEDIATE")
    } else if lower.contains("expert-level") || lower.contains("expert level") || lower.contains("experts only") {
        Some("EXPERT")
    } else {
        None
    }
}

/// Reads the canonical `job` object; keys it does not know are reported as unmapped.
pub(crate) fn from_canonical(job: &Map<String, Value>) -> Extracted {
    let mut out = Extracted::default();
    let pt = job.get("paymentType").and_then(Value::as_str).filter(|p| PAYMENT_TYPES.contains(p)).map(str::to_string);
    for (k, v) in job {
        let target = match k.as_str() {
            "title" => Some("jobTitle"),
            "description" => Some("jobDescription"),
            "paymentType" if pt.is_some() => Some("paymentType"),
            "rateAmount" => pt.as_deref().and_then(rate_key),
            "languages" | "countries" | "labelTypes" => {
                Some(k.as_str()).and_then(|k| UPDATE_KEYS.iter().copied().find(|u| *u == k))
            }
            "experienceLevel" if v.as_str().is_some_and(|e| EXPERIENCE_LEVELS.contains(&e)) => Some("experienceLevel"),
            "tools" => {
                if let Some(list) = v.as_array() {
                    let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
                    out.fields.insert("labelingSoftware".into(), names.join(", ").into());
                }
                continue;
            }
            k if UPDATE_KEYS.contains(&k) => UPDATE_KEYS.iter().copied().find(|u| *u == k),
            _ => None,
        };
        match target {
            Some(t) if check_type(t, v).is_ok() => {
                out.fields.insert(t.into(), v.clone());
            }
            _ => out.unmapped.push(unmapped(&format!("job.{k}"), "not a canonical job field the sandbox maps", v)),
        }
    }
    out
}

/// Reads a schema.org JobPosting: title, description and an hourly base salary.
pub(crate) fn from_json_ld(ld: &Map<String, Value>) -> Extracted {
    let mut out = Extracted::default();
    for (k, v) in ld {
        match (k.as_str(), v) {
            ("title", Value::String(s)) => {
                out.fields.insert("jobTitle".into(), s.clone().into());
            }
            ("description", Value::String(s)) => {
                out.fields.insert("jobDescription".into(), strip_tags(s).into());
            }
            ("baseSalary", Value::Object(salary)) => {
                let value = salary.get("value").and_then(Value::as_object);
                let amount = value.and_then(|v| v.get("value")).and_then(Value::as_f64);
                let unit = value.and_then(|v| v.get("unitText")).and_then(Value::as_str).unwrap_or("");
                match (amount, unit.to_uppercase().as_str()) {
                    (Some(a), "HOUR") => {
                        out.fields.insert("paymentType".into(), "PAY_PER_HOUR".into());
                        out.fields.insert("pricePerHour".into(), a.into());
                    }
                    _ => out.unmapped.push(unmapped("jsonLd.baseSalary", "only an hourly baseSalary is mapped", v)),
                }
            }
            ("@context" | "@type", _) => {}
            _ => out.unmapped.push(unmapped(&format!("jsonLd.{k}"), "not mapped by the sandbox", v)),
        }
    }
    out
}

/// Reads `<title>` and `<description>` from an XML feed item.
pub(crate) fn from_xml(xml: &str) -> Extracted {
    let mut out = Extracted::default();
    let tag = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let start = xml.find(&open)? + open.len();
        let end = xml[start..].find(&format!("</{name}>"))? + start;
        let inner = xml[start..end].trim();
        let inner = inner.strip_prefix("<![CDATA[").and_then(|s| s.strip_suffix("]]>")).unwrap_or(inner);
        Some(strip_tags(inner))
    };
    if let Some(t) = tag("title") {
        out.fields.insert("jobTitle".into(), t.into());
    }
    if let Some(d) = tag("description") {
        out.fields.insert("jobDescription".into(), d.into());
    }
    out.warnings
        .push("The sandbox reads only <title> and <description> from XML feeds; set the rest with PATCH.".into());
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn unmapped(path: &str, reason: &str, v: &Value) -> Value {
    let preview: String = v.to_string().chars().take(60).collect();
    json!({ "path": path, "reason": reason, "valuePreview": preview })
}

/// Checks the JSON type of one patch value against the catalog; the error names the issue.
pub(crate) fn check_type(key: &str, v: &Value) -> Result<(), String> {
    let is_str_list = |v: &Value| v.as_array().is_some_and(|a| a.iter().all(Value::is_string));
    let ok = match key {
        "jobTitle" | "jobDescription" => v.is_string(),
        "paymentType" => return enum_check(v, &PAYMENT_TYPES),
        "experienceLevel" => return enum_check(v, &EXPERIENCE_LEVELS),
        "dataVolumeUnit" => return enum_check(v, &VOLUME_UNITS),
        "pricePerHour" | "pricePerLabel" | "fixedPrice" | "dataVolume" => v.as_f64().is_some(),
        // The docs call it a number: `3.0` is three trainers; a fraction is not a headcount.
        "headcount" => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "languages" | "countries" | "labelTypes" => is_str_list(v),
        // Types of the other catalogued keys are not documented: text, numbers, flags or lists.
        _ => !v.is_object(),
    };
    if ok { Ok(()) } else { Err(format!("`{key}` has the wrong type")) }
}

fn enum_check(v: &Value, allowed: &[&str]) -> Result<(), String> {
    match v.as_str() {
        Some(s) if allowed.contains(&s) => Ok(()),
        _ => Err(format!("must be one of {}", allowed.join(", "))),
    }
}

// One argument per documented MissingField key keeps each catalogue entry readable at its call.
#[allow(clippy::too_many_arguments)]
fn missing(
    field: &str,
    label: &str,
    message: &str,
    prompt: &str,
    ty: &str,
    enum_values: Option<&[&str]>,
    update_keys: &[&str],
    example: &str,
    hint: Option<&str>,
) -> Value {
    json!({
        "field": field,
        "label": label,
        "message": message,
        "code": "missing_required_field",
        "prompt": format!("ask: {prompt}"),
        "type": ty,
        "enumValues": enum_values,
        "updateKeys": update_keys,
        "example": example,
        "hint": hint,
    })
}

/// The validation report of a draft: `(validation, missingFields)`.
pub(crate) fn validate(fields: &Map<String, Value>) -> (Value, Vec<Value>) {
    let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty());
    let mut gaps = Vec::new();
    let mut issues = Vec::new();
    if text("jobTitle").is_none() {
        gaps.push(missing(
            "jobTitle",
            "Job title",
            "A title is required to publish.",
            "What should the job be called?",
            "string",
            None,
            &["jobTitle"],
            "Spanish tweet sentiment labeling",
            None,
        ));
    }
    if text("jobDescription").is_none() {
        gaps.push(missing(
            "jobDescription",
            "Job description",
            "Candidates need a description of the work.",
            "What exactly should the AI trainers do?",
            "string",
            None,
            &["jobDescription"],
            "Label each tweet as positive, negative or neutral.",
            None,
        ));
    }
    match text("paymentType") {
        None => gaps.push(missing(
            "paymentType",
            "Payment type",
            "Say how AI trainers are paid.",
            "Do you pay per label, per hour, or a fixed price?",
            "enum",
            Some(&PAYMENT_TYPES),
            &["paymentType", "pricePerLabel", "pricePerHour", "fixedPrice"],
            "PAY_PER_LABEL",
            Some("Send the matching rate in the same PATCH: pricePerLabel, pricePerHour or fixedPrice."),
        )),
        Some(pt) => {
            if let Some(key) = rate_key(pt) {
                match fields.get(key).and_then(Value::as_f64) {
                    None => {
                        let (label, prompt, example) = match key {
                            "pricePerHour" => ("Hourly rate (USD)", "What hourly rate in USD do you offer?", "18"),
                            "pricePerLabel" => ("Rate per label (USD)", "How much in USD do you pay per label?", "0.05"),
                            _ => ("Fixed price (USD)", "What is the total fixed price in USD?", "500"),
                        };
                        gaps.push(missing(key, label, "The rate for the chosen payment type is required.", prompt, "number", None, &[key], example, None));
                    }
                    Some(r) if r <= 0.0 => issues.push(json!({ "field": key, "code": "invalid_value", "message": format!("{key} must be greater than 0") })),
                    Some(_) => {}
                }
            }
        }
    }
    if text("experienceLevel").is_none() {
        gaps.push(missing(
            "experienceLevel",
            "Experience level",
            "Say what experience AI trainers need.",
            "What experience level do the AI trainers need?",
            "enum",
            Some(&EXPERIENCE_LEVELS),
            &["experienceLevel"],
            "INTERMEDIATE",
            None,
        ));
    }
    if text("dataVolumeUnit").is_none() {
        gaps.push(missing(
            "dataVolumeUnit",
            "Data volume unit",
            "Say how the amount of data is measured.",
            "Is the data measured in files, words or hours of audio/video?",
            "enum",
            Some(&VOLUME_UNITS),
            &["dataVolumeUnit", "dataVolume"],
            "NUMBER_OF_FILES",
            Some("Use UNKNOWN_NOT_SPECIFIED when the volume is open."),
        ));
    }
    if fields.get("headcount").and_then(Value::as_f64).is_some_and(|h| h < 1.0) {
        issues
            .push(json!({ "field": "headcount", "code": "invalid_value", "message": "headcount must be at least 1" }));
    }
    if fields.get("dataVolume").and_then(Value::as_f64).is_some_and(|v| v < 0.0) {
        issues.push(
            json!({ "field": "dataVolume", "code": "invalid_value", "message": "dataVolume cannot be negative" }),
        );
    }
    if text("jobTitle").is_some_and(|t| t.chars().count() > 200) {
        issues.push(
            json!({ "field": "jobTitle", "code": "too_long", "message": "jobTitle must be at most 200 characters" }),
        );
    }
    let names: Vec<Value> = gaps.iter().filter_map(|g| g.get("field").cloned()).collect();
    let validation = json!({
        "publishReady": gaps.is_empty() && issues.is_empty(),
        "issueCount": issues.len(),
        "missingFieldCount": gaps.len(),
        "missingFields": names,
        "issues": issues,
    });
    (validation, gaps)
}

/// Words a listing may not contain: asking for contact or payment off the platform.
pub(crate) fn moderation(fields: &Map<String, Value>) -> Vec<String> {
    let mut all = String::new();
    for k in ["jobTitle", "jobDescription"] {
        if let Some(s) = fields.get(k).and_then(Value::as_str) {
            all.push_str(&s.to_lowercase());
            all.push('\n');
        }
    }
    let rules = [
        ("whatsapp", "off_platform_contact"),
        ("telegram", "off_platform_contact"),
        ("email me", "off_platform_contact"),
        ("send your email", "off_platform_contact"),
        ("pay a fee", "fee_from_applicants"),
        ("registration fee", "fee_from_applicants"),
        ("paypal me", "off_platform_payment"),
    ];
    let mut reasons: Vec<String> = Vec::new();
    for (needle, reason) in rules {
        if all.contains(needle) && !reasons.iter().any(|r| r == reason) {
            reasons.push(reason.to_string());
        }
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_readme_example_states() {
        let e = from_text("Label 5,000 Spanish tweets for sentiment, $0.05 per label, 3 labelers.");
        let f = &e.fields;
        assert_eq!(f["jobTitle"], "Label 5,000 Spanish tweets for sentiment");
        assert_eq!(f["paymentType"], "PAY_PER_LABEL");
        assert_eq!(f["pricePerLabel"], 0.05);
        assert_eq!(f["headcount"], 3);
        assert_eq!(f["languages"], json!(["Spanish"]));
        assert_eq!(f["dataVolume"], 5000.0);
        assert!(f.get("dataVolumeUnit").is_none(), "tweets are not a documented unit");
        assert!(e.low_confidence.contains(&"dataVolume".to_string()));
    }

    #[test]
    fn reads_hourly_fixed_and_units() {
        let f = from_text("Audio transcription\nTranscribe 120 hours of audio in German and French. $18/hr, two transcribers, intermediate.").fields;
        assert_eq!(f["jobTitle"], "Audio transcription");
        assert_eq!((f["paymentType"].clone(), f["pricePerHour"].clone()), (json!("PAY_PER_HOUR"), json!(18.0)));
        assert_eq!(
            (f["dataVolume"].clone(), f["dataVolumeUnit"].clone()),
            (json!(120.0), json!("HOURS_OF_RECORDING_AUDIO_VIDEO"))
        );
        assert_eq!(f["languages"], json!(["German", "French"]));
        assert_eq!(f["headcount"], 2);
        assert_eq!(f["experienceLevel"], "INTERMEDIATE");
        let f = from_text("Review 2k images for a fixed price of $1,500.").fields;
        assert_eq!((f["paymentType"].clone(), f["fixedPrice"].clone()), (json!("FIXED_PRICE"), json!(1500.0)));
        assert_eq!(f["dataVolumeUnit"], "NUMBER_OF_FILES");
    }

    #[test]
    fn states_nothing_it_was_not_told() {
        let f = from_text("We need help with some data.").fields;
        let keys: Vec<&String> = f.keys().collect();
        assert_eq!(keys, ["jobDescription", "jobTitle"]);
    }

    #[test]
    fn validation_lists_gaps_with_everything_to_fill_them() {
        let (v, gaps) = validate(&from_text("Label 5,000 Spanish tweets, $0.05 per label, 3 labelers.").fields);
        assert_eq!(v["publishReady"], false);
        assert_eq!(v["missingFields"], json!(["experienceLevel", "dataVolumeUnit"]));
        for g in &gaps {
            for k in ["prompt", "type", "enumValues", "updateKeys"] {
                assert!(g.get(k).is_some(), "{k} in {g}");
            }
        }
    }
}
