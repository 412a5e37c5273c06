//! The simulated marketplace: masked AI trainers, other companies' public listings, and the
//! proposals (with AI interviews) that a published job receives.

use serde_json::{Map, Value, json};

use super::{
    extract::rate_key,
    state::{DAY_MS, Interview, Job, Proposal, State, iso},
};

/// One seeded AI trainer. Only masked identity is ever served: first name and last initial.
pub(crate) struct Trainer {
    pub id: &'static str,
    pub slug: &'static str,
    pub first: &'static str,
    pub initial: &'static str,
    pub country_code: &'static str,
    pub country: &'static str,
    pub city: &'static str,
    pub title: &'static str,
    pub bio: &'static str,
    pub hourly: f64,
    pub languages: &'static [(&'static str, &'static str)],
    pub label_types: &'static [&'static str],
    pub tags: &'static [&'static str],
    pub data_types: &'static [&'static str],
    pub software: &'static [&'static str],
    pub subject: &'static [&'static str],
    pub expertise: &'static str,
    pub english: &'static str,
    pub since: &'static str,
    pub earned: f64,
    pub hours: f64,
    pub jss: f64,
    pub reviews: &'static [(f64, &'static str)],
}

pub(crate) const TRAINERS: [Trainer; 8] = [
    Trainer {
        id: "usr_fl_maria",
        slug: "maria-g",
        first: "Maria",
        initial: "G",
        country_code: "ES",
        country: "Spain",
        city: "Valencia",
        title: "Spanish NLP annotator and linguist",
        bio: "Five years of sentiment, intent and NER labeling for Spanish and Catalan.",
        hourly: 18.0,
        languages: &[("Spanish", "NATIVE"), ("English", "FLUENT"), ("Catalan", "NATIVE")],
        label_types: &["CLASSIFICATION", "NER"],
        tags: &["SENTIMENT_ANALYSIS", "INTENT"],
        data_types: &["TEXT"],
        software: &["Label Studio", "Prodigy"],
        subject: &["Social media", "Customer support"],
        expertise: "EXPERT",
        english: "FLUENT",
        since: "2021-03-02T10:00:00.000Z",
        earned: 48250.0,
        hours: 2310.0,
        jss: 98.0,
        reviews: &[(5.0, "Careful, fast, asked the right questions."), (4.8, "Great consistency on a 20k item batch.")],
    },
    Trainer {
        id: "usr_fl_diego",
        slug: "diego-r",
        first: "Diego",
        initial: "R",
        country_code: "MX",
        country: "Mexico",
        city: "Guadalajara",
        title: "Bilingual data labeler (ES/EN)",
        bio: "Content moderation and sentiment labeling, Latin American Spanish.",
        hourly: 14.0,
        languages: &[("Spanish", "NATIVE"), ("English", "FLUENT")],
        label_types: &["CLASSIFICATION"],
        tags: &["SENTIMENT_ANALYSIS", "CONTENT_MODERATION"],
        data_types: &["TEXT", "IMAGE"],
        software: &["Labelbox"],
        subject: &["E-commerce"],
        expertise: "INTERMEDIATE",
        english: "FLUENT",
        since: "2022-07-19T10:00:00.000Z",
        earned: 12800.0,
        hours: 910.0,
        jss: 94.0,
        reviews: &[(4.7, "Reliable and quick.")],
    },
    Trainer {
        id: "usr_fl_amelie",
        slug: "amelie-d",
        first: "Amélie",
        initial: "D",
        country_code: "FR",
        country: "France",
        city: "Lyon",
        title: "French transcription and audio QA",
        bio: "Verbatim and clean transcription, speaker diarization, audio quality review.",
        hourly: 22.0,
        languages: &[("French", "NATIVE"), ("English", "FLUENT"), ("German", "CONVERSATIONAL")],
        label_types: &["TRANSCRIPTION", "SEGMENTATION"],
        tags: &["SPEECH", "DIARIZATION"],
        data_types: &["AUDIO"],
        software: &["ELAN", "Audacity"],
        subject: &["Podcasts", "Call centers"],
        expertise: "EXPERT",
        english: "FLUENT",
        since: "2020-11-05T10:00:00.000Z",
        earned: 61000.0,
        hours: 2900.0,
        jss: 99.0,
        reviews: &[(5.0, "Flawless transcripts.")],
    },
    Trainer {
        id: "usr_fl_kenji",
        slug: "kenji-t",
        first: "Kenji",
        initial: "T",
        country_code: "JP",
        country: "Japan",
        city: "Osaka",
        title: "Japanese annotator, LLM response rater",
        bio: "Ranks and rewrites model answers in Japanese; RLHF preference data.",
        hourly: 25.0,
        languages: &[("Japanese", "NATIVE"), ("English", "FLUENT")],
        label_types: &["RANKING", "CLASSIFICATION"],
        tags: &["RLHF", "SENTIMENT_ANALYSIS"],
        data_types: &["TEXT"],
        software: &["Scale Rapid"],
        subject: &["Technology"],
        expertise: "EXPERT",
        english: "FLUENT",
        since: "2022-01-10T10:00:00.000Z",
        earned: 35500.0,
        hours: 1500.0,
        jss: 97.0,
        reviews: &[(4.9, "Thoughtful rationales on every comparison.")],
    },
    Trainer {
        id: "usr_fl_aisha",
        slug: "aisha-k",
        first: "Aisha",
        initial: "K",
        country_code: "KE",
        country: "Kenya",
        city: "Nairobi",
        title: "Image and video annotator",
        bio: "Bounding boxes, polygons and video tracking for retail and traffic datasets.",
        hourly: 12.0,
        languages: &[("English", "FLUENT"), ("Swahili", "NATIVE")],
        label_types: &["BOUNDING_BOX", "POLYGON", "TRACKING"],
        tags: &["OBJECT_DETECTION"],
        data_types: &["IMAGE", "VIDEO"],
        software: &["CVAT", "Labelbox"],
        subject: &["Retail", "Autonomous driving"],
        expertise: "INTERMEDIATE",
        english: "FLUENT",
        since: "2023-02-14T10:00:00.000Z",
        earned: 9400.0,
        hours: 780.0,
        jss: 96.0,
        reviews: &[(4.8, "Tight boxes, no misses.")],
    },
    Trainer {
        id: "usr_fl_lukas",
        slug: "lukas-m",
        first: "Lukas",
        initial: "M",
        country_code: "DE",
        country: "Germany",
        city: "Leipzig",
        title: "German linguist, search relevance rater",
        bio: "Query-document relevance, translation QA and grammar labeling in German.",
        hourly: 24.0,
        languages: &[("German", "NATIVE"), ("English", "FLUENT")],
        label_types: &["CLASSIFICATION", "RANKING"],
        tags: &["SEARCH_RELEVANCE"],
        data_types: &["TEXT"],
        software: &["Appen Connect"],
        subject: &["Search", "Legal"],
        expertise: "EXPERT",
        english: "FLUENT",
        since: "2021-09-01T10:00:00.000Z",
        earned: 27300.0,
        hours: 1200.0,
        jss: 95.0,
        reviews: &[(4.6, "Precise and well documented.")],
    },
    Trainer {
        id: "usr_fl_priya",
        slug: "priya-s",
        first: "Priya",
        initial: "S",
        country_code: "IN",
        country: "India",
        city: "Pune",
        title: "Medical text annotator (NER, coding)",
        bio: "Clinical NER and ICD coding; nursing background.",
        hourly: 16.0,
        languages: &[("English", "FLUENT"), ("Hindi", "NATIVE")],
        label_types: &["NER", "CLASSIFICATION"],
        tags: &["MEDICAL"],
        data_types: &["TEXT"],
        software: &["Doccano"],
        subject: &["Healthcare"],
        expertise: "EXPERT",
        english: "FLUENT",
        since: "2022-04-22T10:00:00.000Z",
        earned: 18900.0,
        hours: 1100.0,
        jss: 97.0,
        reviews: &[(5.0, "Domain knowledge made the difference.")],
    },
    Trainer {
        id: "usr_fl_joao",
        slug: "joao-p",
        first: "João",
        initial: "P",
        country_code: "BR",
        country: "Brazil",
        city: "Recife",
        title: "Portuguese and Spanish data labeler",
        bio: "Sentiment and intent labeling for Brazilian Portuguese and Spanish chat logs.",
        hourly: 11.0,
        languages: &[("Portuguese", "NATIVE"), ("Spanish", "FLUENT"), ("English", "CONVERSATIONAL")],
        label_types: &["CLASSIFICATION"],
        tags: &["SENTIMENT_ANALYSIS", "INTENT"],
        data_types: &["TEXT"],
        software: &["Label Studio"],
        subject: &["Banking"],
        expertise: "ENTRY_LEVEL",
        english: "CONVERSATIONAL",
        since: "2024-01-08T10:00:00.000Z",
        earned: 2100.0,
        hours: 190.0,
        jss: 90.0,
        reviews: &[],
    },
];

/// A trainer by id or slug.
pub(crate) fn trainer(id_or_slug: &str) -> Option<&'static Trainer> {
    TRAINERS.iter().find(|t| t.id == id_or_slug || t.slug == id_or_slug)
}

impl Trainer {
    pub fn display_name(&self) -> String {
        format!("{} {}.", self.first, self.initial)
    }

    fn speaks(&self, lang: &str) -> bool {
        self.languages.iter().any(|(l, _)| l.eq_ignore_ascii_case(lang))
    }

    /// The masked candidate of a proposal.
    pub fn candidate_json(&self) -> Value {
        json!({
            "id": self.id,
            "profileSlug": self.slug,
            "displayName": self.display_name(),
            "firstName": self.first,
            "lastNameInitial": self.initial,
            "profileTitle": self.title,
            "profilePhotoUrl": Value::Null,
            "countryCode": self.country_code,
            "country": self.country,
            "talentType": "FREELANCER",
            "highestEarningsUsd": self.earned,
            "reviewCount": self.reviews.len(),
        })
    }

    /// The public profile, masked.
    pub fn profile_json(&self) -> Value {
        let avg = if self.reviews.is_empty() {
            Value::Null
        } else {
            json!(self.reviews.iter().map(|r| r.0).sum::<f64>() / self.reviews.len() as f64)
        };
        let reviews: Vec<Value> = self
            .reviews
            .iter()
            .enumerate()
            .map(|(i, (rating, comment))| {
                json!({ "id": format!("rev_{}_{i}", self.slug), "rating": rating, "comment": comment, "createdAt": "2025-10-01T12:00:00.000Z" })
            })
            .collect();
        json!({
            "id": self.id,
            "profileSlug": self.slug,
            "profilePath": format!("/profile/{}", self.slug),
            "displayName": self.display_name(),
            "firstName": self.first,
            "lastNameInitial": self.initial,
            "talentType": "Individual",
            "title": self.title,
            "bio": self.bio,
            "city": self.city,
            "countryCode": self.country_code,
            "country": self.country,
            "profilePhotoUrl": Value::Null,
            "hourlyRateUsd": self.hourly,
            "availability": "FULL_TIME",
            "expertiseLevel": self.expertise,
            "englishLevel": self.english,
            "memberSince": self.since,
            "identityVerified": true,
            "skills": {
                "subjectMatter": self.subject,
                "tags": self.tags,
                "software": self.software,
                "dataTypes": self.data_types,
                "labelTypes": self.label_types,
            },
            "languages": self.languages.iter().map(|(l, p)| json!({ "language": l, "proficiency": p })).collect::<Vec<_>>(),
            "stats": {
                "totalEarnedUsd": self.earned,
                "billedHours": self.hours,
                "jobSuccessScore": self.jss,
                "reviewCount": self.reviews.len(),
                "averageRating": avg,
            },
            "agency": Value::Null,
            "labelExperience": [{
                "id": format!("lx_{}", self.slug),
                "title": self.title,
                "description": self.bio,
                "fromYear": 2021,
                "toYear": Value::Null,
                "ongoing": true,
                "software": self.software.first().copied(),
                "dataType": self.data_types.first().copied(),
                "labelTypes": self.label_types,
            }],
            "workExperience": [],
            "education": [],
            "reviews": reviews,
        })
    }
}

struct SeedJob {
    title: &'static str,
    company: &'static str,
    category: &'static str,
    pay: (&'static str, f64),
    languages: &'static [&'static str],
    countries: &'static [&'static str],
    level: &'static str,
    text: &'static str,
}

const SEED_JOBS: [SeedJob; 8] = [
    SeedJob {
        title: "Spanish customer-support intent labeling",
        company: "Acme Support AI",
        category: "Text Annotation",
        pay: ("PAY_PER_LABEL", 0.04),
        languages: &["Spanish"],
        countries: &["ES", "MX"],
        level: "INTERMEDIATE",
        text: "Label 20,000 Spanish support chats with one of 30 intents.",
    },
    SeedJob {
        title: "French podcast transcription",
        company: "Ondes Media",
        category: "Audio Annotation",
        pay: ("PAY_PER_HOUR", 21.0),
        languages: &["French"],
        countries: &["FR", "BE", "CA"],
        level: "EXPERT",
        text: "Verbatim transcription of 300 hours of French podcasts with speaker turns.",
    },
    SeedJob {
        title: "Retail shelf bounding boxes",
        company: "ShelfSight",
        category: "Image Annotation",
        pay: ("PAY_PER_LABEL", 0.03),
        languages: &["English"],
        countries: &["KE", "IN", "PH"],
        level: "ENTRY_LEVEL",
        text: "Draw boxes around products on 50,000 shelf photos.",
    },
    SeedJob {
        title: "Japanese LLM answer ranking",
        company: "Kumo Labs",
        category: "RLHF",
        pay: ("PAY_PER_HOUR", 28.0),
        languages: &["Japanese"],
        countries: &["JP"],
        level: "EXPERT",
        text: "Rank pairs of model answers in Japanese and write short rationales.",
    },
    SeedJob {
        title: "German search relevance rating",
        company: "Findwerk",
        category: "Search Relevance",
        pay: ("PAY_PER_HOUR", 23.0),
        languages: &["German"],
        countries: &["DE", "AT", "CH"],
        level: "INTERMEDIATE",
        text: "Rate how well documents answer German search queries.",
    },
    SeedJob {
        title: "Clinical notes NER",
        company: "MedTag Health",
        category: "Text Annotation",
        pay: ("FIXED_PRICE", 2400.0),
        languages: &["English"],
        countries: &["US", "IN"],
        level: "EXPERT",
        text: "Tag medications, dosages and conditions in 3,000 de-identified clinical notes.",
    },
    SeedJob {
        title: "Portuguese sentiment for banking chats",
        company: "Banco Digital Lab",
        category: "Text Annotation",
        pay: ("PAY_PER_LABEL", 0.05),
        languages: &["Portuguese"],
        countries: &["BR"],
        level: "ANY_EXPERIENCE_LEVEL",
        text: "Label 10,000 Brazilian Portuguese chat messages as positive, negative or neutral.",
    },
    SeedJob {
        title: "Traffic video object tracking",
        company: "RoadSense",
        category: "Video Annotation",
        pay: ("PAY_PER_HOUR", 15.0),
        languages: &["English"],
        countries: &["KE", "NG", "ZA"],
        level: "INTERMEDIATE",
        text: "Track cars, bikes and pedestrians across 40 hours of dashcam video.",
    },
];

/// Adds the other companies' listings once (a loaded state already has them).
pub(crate) fn seed(st: &mut State) {
    if st.jobs.values().any(|j| j.account_id.is_none()) {
        return;
    }
    let now = st.now();
    for (i, s) in SEED_JOBS.iter().enumerate() {
        let id = format!("job_mkt_{:02}", i + 1);
        let posted = now - (i as i64 + 1) * DAY_MS;
        let mut fields = Map::new();
        fields.insert("jobTitle".into(), s.title.into());
        fields.insert("jobDescription".into(), s.text.into());
        fields.insert("paymentType".into(), s.pay.0.into());
        if let Some(k) = rate_key(s.pay.0) {
            fields.insert(k.into(), s.pay.1.into());
        }
        fields.insert("languages".into(), json!(s.languages));
        fields.insert("countries".into(), json!(s.countries));
        fields.insert("experienceLevel".into(), s.level.into());
        st.jobs.insert(
            id.clone(),
            Job {
                id,
                account_id: None,
                company_name: s.company.into(),
                status: "OPEN".into(),
                fields,
                category: s.category.into(),
                created_ms: posted,
                updated_ms: posted,
                published_ms: Some(posted),
                idempotency_key: None,
                external_id: None,
                low_confidence: Vec::new(),
                warnings: Vec::new(),
                unmapped: Vec::new(),
                changes: vec![("PUBLISHED".into(), posted)],
            },
        );
    }
}

/// The category a listing shows, from what the description talks about.
pub(crate) fn category_of(fields: &Map<String, Value>) -> (&'static str, &'static str) {
    let text = ["jobTitle", "jobDescription", "dataType"]
        .iter()
        .filter_map(|k| fields.get(*k).and_then(Value::as_str))
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if ["audio", "transcri", "speech", "podcast"].iter().any(|w| text.contains(w)) {
        ("Audio Annotation", "Audio")
    } else if ["video", "dashcam", "footage"].iter().any(|w| text.contains(w)) {
        ("Video Annotation", "Video")
    } else if ["image", "photo", "bounding box", "picture"].iter().any(|w| text.contains(w)) {
        ("Image Annotation", "Image")
    } else {
        ("Text Annotation", "Text")
    }
}

fn level_label(level: &str) -> &'static str {
    match level {
        "EXPERT" => "Expert",
        "ENTRY_LEVEL" => "Entry level",
        "INTERMEDIATE" => "Intermediate",
        _ => "Any experience level",
    }
}

fn strs(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

/// The job's title, or a placeholder for an untitled draft.
pub(crate) fn title_of(job: &Job) -> String {
    job.fields.get("jobTitle").and_then(Value::as_str).unwrap_or("Untitled draft").to_string()
}

/// A public listing (GET /jobs and GET /jobs/{id}).
pub(crate) fn public_job_json(base: &str, job: &Job) -> Value {
    let f = &job.fields;
    let title = title_of(job);
    let slug: String = title
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let text = f.get("jobDescription").and_then(Value::as_str).unwrap_or("").to_string();
    let html = format!("<p>{}</p>", super::pages::escape(&text).replace('\n', "<br>"));
    let (_, data_type) = category_of(f);
    let pt = f.get("paymentType").and_then(Value::as_str).unwrap_or("FIXED_PRICE");
    let num = |k: &str| f.get(k).and_then(Value::as_f64);
    let posted = job.published_ms.unwrap_or(job.created_ms);
    let summary: String = text.chars().take(160).collect();
    json!({
        "id": job.id,
        "slug": slug,
        "title": title,
        "companyName": job.company_name,
        "descriptionText": text,
        "descriptionHtml": html,
        "seoTitle": format!("{title} | OpenTrain sandbox"),
        "summary": summary,
        "status": job.status,
        "datePosted": iso(posted),
        "validThrough": iso(posted + 30 * DAY_MS),
        "updatedAt": iso(job.updated_ms),
        "employmentTypes": ["CONTRACTOR"],
        "countries": strs(f.get("countries")),
        "languages": strs(f.get("languages")),
        "category": job.category,
        "dataType": data_type,
        "labelTypes": strs(f.get("labelTypes")),
        "labelingSoftware": f.get("labelingSoftware").and_then(Value::as_str),
        "experienceLevel": level_label(f.get("experienceLevel").and_then(Value::as_str).unwrap_or("")),
        "skills": strs(f.get("labelTypes")),
        "pay": {
            "paymentType": pt,
            "currency": "USD",
            "hourlyRate": if pt == "PAY_PER_HOUR" { num("pricePerHour") } else { None },
            "hourlyMin": Value::Null,
            "hourlyMax": Value::Null,
            "fixedPrice": if pt == "FIXED_PRICE" { num("fixedPrice") } else { None },
            "perLabelRate": if pt == "PAY_PER_LABEL" { num("pricePerLabel") } else { None },
        },
        "url": format!("{base}/jobs/{slug}-{}", job.id),
        "applyUrl": format!("{base}/api/out?job={}&src=www_seo", job.id),
    })
}

/// Picks the AI trainers who apply to a newly published job: speakers of its languages first.
pub(crate) fn applicants(job: &Job, count: usize) -> Vec<&'static Trainer> {
    let langs = strs(job.fields.get("languages"));
    let mut ranked: Vec<(usize, &'static Trainer)> = TRAINERS
        .iter()
        .enumerate()
        .map(|(i, t)| (if langs.iter().any(|l| t.speaks(l)) { i } else { i + 100 }, t))
        .collect();
    ranked.sort_by_key(|(k, _)| *k);
    ranked.into_iter().take(count).map(|(_, t)| t).collect()
}

fn bid_unit(pt: &str) -> &'static str {
    match pt {
        "PAY_PER_LABEL" => "PER_LABEL",
        "PAY_PER_HOUR" => "PER_HOUR",
        _ => "FIXED_PRICE",
    }
}

/// A proposal of `t` on `job` with an AI interview; `n` varies bids and scores.
pub(crate) fn proposal(st: &mut State, job: &Job, t: &Trainer, n: usize, at_ms: i64) -> Proposal {
    let id = st.id("prop");
    let pt = job.fields.get("paymentType").and_then(Value::as_str).unwrap_or("FIXED_PRICE");
    let rate = rate_key(pt).and_then(|k| job.fields.get(k)).and_then(Value::as_f64).unwrap_or(0.0);
    let factor = [1.0, 0.9, 1.15, 1.05, 0.95][n % 5];
    let bid = ((rate * factor) * 100.0).round() / 100.0;
    let score = [91.0, 84.0, 77.0, 88.0, 72.0][n % 5];
    let matching = [0.93, 0.86, 0.74, 0.81, 0.69][n % 5];
    let title = title_of(job);
    let lang = strs(job.fields.get("languages")).into_iter().next();
    let lang_q = match &lang {
        Some(l) => format!("This job needs {l}. How do you handle ambiguous or sarcastic {l} text?"),
        None => "How do you handle items where the right label is ambiguous?".to_string(),
    };
    let lang_a = match &lang {
        Some(l) if t.speaks(l) => format!(
            "I'm {} in {l}. I flag sarcasm explicitly and follow the guideline's tie-break rule, noting the reason.",
            t.languages
                .iter()
                .find(|(x, _)| x.eq_ignore_ascii_case(l))
                .map(|(_, p)| p.to_lowercase())
                .unwrap_or_default()
        ),
        Some(l) => {
            format!("{l} is not my strongest language, so I would double-check unclear items and ask for examples.")
        }
        None => "I follow the guideline's tie-break rule and leave a short note so reviewers can check.".to_string(),
    };
    let messages = vec![
        (
            "interviewer".to_string(),
            format!("Hi {}, thanks for applying to \"{title}\". What similar work have you done?", t.first),
            at_ms,
        ),
        (
            "candidate".to_string(),
            format!("{} I have mostly worked with {}.", t.bio, t.software.join(" and ")),
            at_ms + 1000,
        ),
        ("interviewer".to_string(), lang_q, at_ms + 2000),
        ("candidate".to_string(), lang_a, at_ms + 3000),
        ("interviewer".to_string(), "How many items per hour can you label at high quality?".to_string(), at_ms + 4000),
        (
            "candidate".to_string(),
            "Around 250 short texts per hour, with a self-review pass at the end of each batch.".to_string(),
            at_ms + 5000,
        ),
    ];
    let summary = format!(
        "{} ({}) has relevant experience in {}; clear answers on ambiguity; estimated throughput about 250 items/hour. Score {score}/100.",
        t.display_name(),
        t.country,
        t.tags.join(", ").to_lowercase().replace('_', " ")
    );
    let interview_id = st.id("int");
    Proposal {
        id,
        job_id: job.id.clone(),
        freelancer_id: t.id.to_string(),
        status: "UNREVIEWED".into(),
        created_ms: at_ms,
        updated_ms: at_ms,
        bid_amount_usd: bid,
        bid_unit: bid_unit(pt).into(),
        labeler_hourly_rate_usd: Some(t.hourly),
        interview_score: Some(score),
        match_score: Some(matching),
        interview: Some(Interview { id: interview_id, summary, messages }),
        invited: false,
        conversation_id: None,
        contract_id: None,
    }
}

/// The display label of a proposal status.
pub(crate) fn status_label(s: &str) -> String {
    let lower = s.replace('_', " ").to_lowercase();
    let mut c = lower.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A proposal list entry.
pub(crate) fn proposal_summary_json(st: &State, p: &Proposal) -> Value {
    let job_title = st.jobs.get(&p.job_id).map(title_of).unwrap_or_default();
    let candidate = trainer(&p.freelancer_id)
        .map(Trainer::candidate_json)
        .unwrap_or_else(|| json!({ "id": p.freelancer_id, "displayName": "Freelancer" }));
    // List entries declare these fields non-nullable: leave unknown values out instead of null.
    let mut metrics = Map::new();
    if let Some(s) = p.interview_score {
        metrics.insert("interviewScore".into(), s.into());
    }
    if let Some(m) = p.match_score {
        metrics.insert("matchScore".into(), m.into());
    }
    json!({
        "id": p.id,
        "jobId": p.job_id,
        "jobTitle": job_title,
        "createdAt": iso(p.created_ms),
        "updatedAt": iso(p.updated_ms),
        "status": { "raw": p.status, "label": status_label(&p.status) },
        "bid": { "amountUsd": p.bid_amount_usd, "unit": p.bid_unit, "labelerHourlyRateUsd": p.labeler_hourly_rate_usd },
        "candidate": without_nulls(candidate),
        "metrics": metrics,
    })
}

fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}
