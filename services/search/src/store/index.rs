//! The tantivy index: one document per merchant and per active product, each carrying what
//! its merchant is (place, kind, rating, weekly hours), so that one pass over the matches
//! filters, counts facets and ranks. Built only from search's own tables (see the parent
//! module); a directory from another schema version is thrown away and built again.

use super::{Merchant, Product};
use crate::domain::{self, PRICE_BANDS, Query, Sort};
use ordo_contracts::catalog::OpeningHours;
use ordo_kernel::Money;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query as Clause, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{SimpleTokenizer, TextAnalyzer};
use tantivy::{
    DocAddress, DocId, Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Score,
    Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
};
use uuid::Uuid;

/// Changes whenever the schema or what goes into a document changes: an index written by
/// another version is rebuilt.
pub const SCHEMA_VERSION: &str = "ordo-search 3";
const VERSION_FILE: &str = "ordo-schema-version";
const ANALYZER: &str = "ordo";
/// The writer's memory before it flushes a segment; tantivy's floor is 15 MB.
const WRITER_MEMORY: usize = 32_000_000;
/// Bytes of stored documents compressed together: a hit decompresses its whole block, and
/// hits are scattered.
const DOCSTORE_BLOCK: usize = 4_096;
/// An out-of-stock product ranks as a match this much weaker.
const OUT_OF_STOCK: Score = 0.5;

/// A word in a name weighs this much more than elsewhere in the document's text.
const NAME_WEIGHT: Score = 2.0;
/// A typo'd match weighs this much of an exact one.
const TYPO_WEIGHT: Score = 0.5;
/// A word in fewer documents than this is also looked for within its typos: a word the
/// catalogue uses widely is taken as meant, which spares the expansion.
const FUZZY_BELOW: u64 = 5;

/// What a hit shows, kept whole in the document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored {
    pub merchant: StoredMerchant,
    pub product: Option<StoredProduct>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMerchant {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub rating: f64,
    pub rating_count: i64,
    pub opening_hours: Vec<OpeningHours>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredProduct {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub category: String,
    pub price: Money,
    pub tags: Vec<String>,
    pub in_stock: bool,
}

/// A match, ranked.
#[derive(Debug, Clone)]
pub struct Found {
    pub score: Score,
    pub distance_km: Option<f64>,
    pub stored: Stored,
}

/// Counts of the matches by facet value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub kind: Vec<(String, u64)>,
    pub category: Vec<(String, u64)>,
    /// By `PRICE_BANDS`, products only.
    pub price: [u64; PRICE_BANDS.len()],
}

/// A page of matches.
#[derive(Debug, Clone)]
pub struct Results {
    pub hits: Vec<Found>,
    pub total: u64,
    pub facets: Facets,
    /// The query's words as the index normalised them, for highlighting.
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    /// The document's name: the product's or the merchant's.
    name: Field,
    /// All its words: name, category, tags, merchant name, description (a merchant's: its
    /// name and the categories it sells).
    text: Field,
    id: Field,
    doc_type: Field,
    merchant_id: Field,
    kind: Field,
    category: Field,
    category_key: Field,
    tags: Field,
    price: Field,
    lat: Field,
    lon: Field,
    rating: Field,
    in_stock: Field,
    hours: Field,
    source: Field,
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(ANALYZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        name: builder.add_text_field("name", text.clone()),
        text: builder.add_text_field("text", text),
        id: builder.add_text_field("id", STRING),
        doc_type: builder.add_text_field("type", STRING),
        merchant_id: builder.add_text_field("merchant_id", STRING),
        kind: builder.add_text_field("kind", STRING | FAST),
        category: builder.add_text_field("category", TextOptions::default().set_fast("raw")),
        category_key: builder.add_text_field("category_key", STRING),
        tags: builder.add_text_field("tags", STRING),
        price: builder.add_i64_field("price", FAST),
        lat: builder.add_f64_field("lat", FAST),
        lon: builder.add_f64_field("lon", FAST),
        rating: builder.add_f64_field("rating", FAST),
        in_stock: builder.add_u64_field("in_stock", FAST),
        hours: builder.add_u64_field("hours", FAST),
        source: builder.add_text_field("source", STORED),
    };
    (builder.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    crate::domain::normalising(SimpleTokenizer::default())
}

/// The index in its directory, with one writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    /// Taken on the first change: a process that only reads (a command beside a running
    /// server) does not contend for the index's lock.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, or creates an empty one there when it is missing,
    /// unreadable or of another schema version. True with it when it was created: it must be
    /// built.
    ///
    /// # Errors
    /// The directory cannot be written, or another process holds the index.
    pub fn open(dir: &Path) -> anyhow::Result<(SearchIndex, bool)> {
        let (schema, fields) = schema();
        let same_version =
            std::fs::read_to_string(dir.join(VERSION_FILE)).is_ok_and(|v| v == SCHEMA_VERSION);
        let existing = same_version
            .then(|| Index::open_in_dir(dir).ok())
            .flatten()
            .filter(|index| index.schema() == schema);
        let created = existing.is_none();
        let index = match existing {
            Some(index) => index,
            None => {
                if dir.exists() {
                    tracing::warn!(dir = %dir.display(), "the search index is of another version or unreadable; building it again");
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                let settings = IndexSettings {
                    docstore_blocksize: DOCSTORE_BLOCK,
                    ..IndexSettings::default()
                };
                let index = Index::builder()
                    .schema(schema.clone())
                    .settings(settings)
                    .create_in_dir(dir)?;
                std::fs::write(dir.join(VERSION_FILE), SCHEMA_VERSION)?;
                index
            }
        };
        index.tokenizers().register(ANALYZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok((
            SearchIndex {
                index,
                reader,
                writer: Mutex::new(None),
                fields,
            },
            created,
        ))
    }

    fn with_writer<R>(
        &self,
        change: impl FnOnce(&mut IndexWriter) -> tantivy::Result<R>,
    ) -> tantivy::Result<R> {
        // A panic while indexing leaves nothing half-applied that the next commit keeps.
        let mut writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let writer = match &mut *writer {
            Some(writer) => writer,
            slot @ None => slot.insert(self.index.writer_with_num_threads(1, WRITER_MEMORY)?),
        };
        change(writer)
    }

    /// Documents in the index as last committed.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Drops these documents (by merchant or product id) at the next commit.
    ///
    /// # Errors
    /// The writer failing to open.
    pub fn remove(&self, ids: &[Uuid]) -> tantivy::Result<()> {
        self.with_writer(|writer| {
            for id in ids {
                writer.delete_term(Term::from_field_text(self.fields.id, &id.to_string()));
            }
            Ok(())
        })
    }

    /// Drops every document at the next commit.
    ///
    /// # Errors
    /// The writer failing.
    pub fn clear(&self) -> tantivy::Result<()> {
        self.with_writer(|writer| writer.delete_all_documents().map(|_| ()))
    }

    /// Adds a merchant's document, listing the categories it sells.
    ///
    /// # Errors
    /// The writer failing.
    pub fn add_merchant(&self, merchant: &Merchant, categories: &[String]) -> tantivy::Result<()> {
        let f = &self.fields;
        let mut doc = self.located(merchant, "merchant", merchant.id);
        doc.add_text(f.name, &merchant.name);
        doc.add_text(
            f.text,
            format!("{} {}", merchant.name, categories.join(" ")),
        );
        let stored = Stored {
            merchant: stored_merchant(merchant),
            product: None,
        };
        doc.add_text(f.source, serde_json::to_string(&stored)?);
        self.with_writer(|writer| writer.add_document(doc).map(|_| ()))
    }

    /// Adds a product's document, with its merchant's place, kind, rating and hours.
    ///
    /// # Errors
    /// The writer failing.
    pub fn add_product(&self, product: &Product, merchant: &Merchant) -> tantivy::Result<()> {
        let f = &self.fields;
        let mut doc = self.located(merchant, "product", product.id);
        doc.add_text(f.name, &product.name);
        doc.add_text(
            f.text,
            [
                product.name.as_str(),
                &product.category,
                &product.tags.join(" "),
                &merchant.name,
                &product.description,
            ]
            .join(" "),
        );
        doc.add_text(f.category, &product.category);
        doc.add_text(f.category_key, product.category.to_lowercase());
        for tag in &product.tags {
            doc.add_text(f.tags, tag.to_lowercase());
        }
        doc.add_i64(f.price, product.price.amount);
        let in_stock = product.available.is_some_and(|a| a > 0);
        doc.add_u64(f.in_stock, u64::from(in_stock));
        let stored = Stored {
            merchant: stored_merchant(merchant),
            product: Some(StoredProduct {
                id: product.id,
                name: product.name.clone(),
                description: product.description.clone(),
                category: product.category.clone(),
                price: product.price.clone(),
                tags: product.tags.clone(),
                in_stock,
            }),
        };
        doc.add_text(f.source, serde_json::to_string(&stored)?);
        self.with_writer(|writer| writer.add_document(doc).map(|_| ()))
    }

    /// A document's fields that come from where its merchant is and what it is.
    fn located(&self, merchant: &Merchant, doc_type: &str, id: Uuid) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.id, id.to_string());
        doc.add_text(f.doc_type, doc_type);
        doc.add_text(f.merchant_id, merchant.id.to_string());
        doc.add_text(f.kind, &merchant.kind);
        doc.add_f64(f.lat, merchant.lat);
        doc.add_f64(f.lon, merchant.lon);
        doc.add_f64(f.rating, merchant.rating);
        for range in domain::weekly(&merchant.opening_hours) {
            doc.add_u64(
                f.hours,
                (u64::from(range.start) << 16) | u64::from(range.end),
            );
        }
        doc
    }

    /// Makes what was added and removed since the last commit durable and searchable. Blocks
    /// while segments are written.
    ///
    /// # Errors
    /// Writing the segments failing.
    pub fn commit(&self) -> tantivy::Result<()> {
        self.with_writer(|writer| writer.commit().map(|_| ()))?;
        self.reader.reload()
    }

    /// Merges every segment into one, so that queries visit one: after a build. Blocks while
    /// the merge runs.
    ///
    /// # Errors
    /// The merge failing (the segments stay as they were).
    pub fn compact(&self) -> tantivy::Result<()> {
        let segments = self.index.searchable_segment_ids()?;
        if segments.len() > 1 {
            self.with_writer(|writer| writer.merge(&segments).wait().map(|_| ()))?;
            self.reader.reload()?;
        }
        Ok(())
    }

    /// The segments queries visit now.
    #[must_use]
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// The words of `text` as the index normalises them, each once.
    fn words(&self, text: &str) -> Vec<String> {
        let mut analyzer = self
            .index
            .tokenizers()
            .get(ANALYZER)
            .unwrap_or_else(analyzer);
        let mut stream = analyzer.token_stream(text);
        let mut words: Vec<String> = Vec::new();
        while let Some(token) = stream.next() {
            if !words.contains(&token.text) {
                words.push(token.text.clone());
            }
        }
        words
    }

    /// A word anywhere in the document's text, weighing more in its name; a rare or unknown
    /// word also within its typos.
    fn word_clause(&self, searcher: &Searcher, word: &str) -> tantivy::Result<Box<dyn Clause>> {
        let f = &self.fields;
        let in_text = Term::from_field_text(f.text, word);
        let in_name = Term::from_field_text(f.name, word);
        let exact: Box<dyn Clause> = Box::new(TermQuery::new(
            in_text.clone(),
            IndexRecordOption::WithFreqs,
        ));
        let typos = domain::fuzziness(word);
        // The word must be in the text; in the name (a part of the text) it only weighs
        // more, so that matching needs no union.
        let required: Box<dyn Clause> = if typos > 0 && searcher.doc_freq(&in_text)? < FUZZY_BELOW {
            let near = FuzzyTermQuery::new(in_text, typos, true);
            Box::new(BooleanQuery::new(vec![
                (Occur::Should, exact),
                (
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(near), TYPO_WEIGHT)),
                ),
            ]))
        } else {
            exact
        };
        let in_name = TermQuery::new(in_name, IndexRecordOption::WithFreqs);
        Ok(Box::new(BooleanQuery::new(vec![
            (Occur::Must, required),
            (
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(in_name), NAME_WEIGHT)),
            ),
        ])))
    }

    /// A word of a name being typed: whole, or the start of a word of the name, one typo
    /// forgiven in longer words.
    fn prefix_clause(&self, word: &str) -> Box<dyn Clause> {
        let term = Term::from_field_text(self.fields.name, word);
        let typos = domain::fuzziness(word).min(1);
        Box::new(BooleanQuery::new(vec![
            (
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(term.clone(), IndexRecordOption::WithFreqs)),
                    NAME_WEIGHT,
                )),
            ),
            (
                Occur::Should,
                Box::new(FuzzyTermQuery::new_prefix(term, typos, true)),
            ),
        ]))
    }

    fn filter(&self, field: Field, value: &str) -> (Occur, Box<dyn Clause>) {
        (
            Occur::Must,
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            )),
        )
    }

    /// What a hit shows, as its document keeps it.
    fn stored(&self, searcher: &Searcher, address: DocAddress) -> tantivy::Result<Stored> {
        let doc: TantivyDocument = searcher.doc(address)?;
        let source = doc
            .get_first(self.fields.source)
            .and_then(|v| v.as_str())
            .unwrap_or("{}");
        serde_json::from_str(source)
            .map_err(|e| tantivy::TantivyError::InternalError(e.to_string()))
    }

    /// The matches of `query`, at minute `minute` of the week for `open_now`.
    ///
    /// # Errors
    /// Reading the index failing.
    pub fn search(&self, query: &Query, minute: u16) -> tantivy::Result<Results> {
        let f = &self.fields;
        let words = self.words(&query.text);
        let searcher = self.reader.searcher();
        let mut clauses: Vec<(Occur, Box<dyn Clause>)> = words
            .iter()
            .map(|word| Ok((Occur::Must, self.word_clause(&searcher, word)?)))
            .collect::<tantivy::Result<_>>()?;
        if query.products_only() {
            clauses.push(self.filter(f.doc_type, "product"));
        }
        if let Some(kind) = &query.kind {
            clauses.push(self.filter(f.kind, kind));
        }
        if let Some(category) = &query.category {
            clauses.push(self.filter(f.category_key, category));
        }
        if let Some(merchant) = query.merchant {
            clauses.push(self.filter(f.merchant_id, &merchant.to_string()));
        }
        for tag in &query.tags {
            clauses.push(self.filter(f.tags, tag));
        }
        if let Some(near) = query.near
            && let Some(radius) = near.radius_km
        {
            // The radius's box, so that what is outside is skipped before it is scored.
            let ((south, west), (north, east)) =
                ordo_kernel::geo::bounding_box((near.lat, near.lon), radius);
            for (field, low, high) in [(f.lat, south, north), (f.lon, west, east)] {
                clauses.push((
                    Occur::Must,
                    Box::new(RangeQuery::new(
                        Bound::Included(Term::from_field_f64(field, low)),
                        Bound::Included(Term::from_field_f64(field, high)),
                    )),
                ));
            }
        }
        if words.is_empty() {
            clauses.push((Occur::Must, Box::new(AllQuery)));
        }
        let collector = Matches {
            sort: query.sort,
            keep: query.offset + query.limit,
            near: query.near.map(|n| (n.lat, n.lon, n.radius_km)),
            price: (query.min_price, query.max_price),
            open_at: query.open_now.then_some(u64::from(minute)),
            facets: true,
        };
        let found = searcher.search(&BooleanQuery::new(clauses), &collector)?;
        let hits = found
            .top
            .iter()
            .skip(query.offset)
            .map(|ranked| {
                Ok(Found {
                    score: ranked.score,
                    distance_km: ranked.distance,
                    stored: self.stored(&searcher, ranked.address)?,
                })
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(Results {
            hits,
            total: found.total,
            facets: found.facets,
            words,
        })
    }

    /// Names of products and merchants that complete `text`: each of its words as a word of
    /// the name or the start of one, a typo forgiven in longer words.
    ///
    /// # Errors
    /// Reading the index failing.
    pub fn suggest(&self, text: &str, limit: usize) -> tantivy::Result<Vec<Stored>> {
        let words = self.words(text);
        let Some((last, first)) = words.split_last() else {
            return Ok(Vec::new());
        };
        let mut clauses: Vec<(Occur, Box<dyn Clause>)> = first
            .iter()
            .map(|word| (Occur::Must, self.prefix_clause(word)))
            .collect();
        clauses.push((Occur::Must, self.prefix_clause(last)));
        let collector = Matches {
            sort: Sort::Relevance,
            keep: limit * 3,
            near: None,
            price: (None, None),
            open_at: None,
            facets: false,
        };
        let searcher = self.reader.searcher();
        let found = searcher.search(&BooleanQuery::new(clauses), &collector)?;
        let mut names: Vec<Stored> = Vec::with_capacity(limit);
        for ranked in &found.top {
            let stored = self.stored(&searcher, ranked.address)?;
            let name = |s: &Stored| {
                s.product
                    .as_ref()
                    .map_or(&s.merchant.name, |p| &p.name)
                    .to_lowercase()
            };
            if !names.iter().any(|n| name(n) == name(&stored)) {
                names.push(stored);
            }
            if names.len() == limit {
                break;
            }
        }
        Ok(names)
    }
}

fn stored_merchant(merchant: &Merchant) -> StoredMerchant {
    StoredMerchant {
        id: merchant.id,
        name: merchant.name.clone(),
        kind: merchant.kind.clone(),
        address: merchant.address.clone(),
        lat: merchant.lat,
        lon: merchant.lon,
        rating: merchant.rating,
        rating_count: merchant.rating_count,
        opening_hours: merchant.opening_hours.clone(),
    }
}

/// One pass over the matches: the filters the inverted index cannot answer (distance, price,
/// hours), the facet counts, and the best `keep` by the sort.
struct Matches {
    sort: Sort,
    keep: usize,
    near: Option<(f64, f64, Option<f64>)>,
    price: (Option<i64>, Option<i64>),
    /// Minute of the week a match's merchant must be open at.
    open_at: Option<u64>,
    facets: bool,
}

/// A match with what it ranks by; greater is better.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    key: (f64, f64),
    score: Score,
    distance: Option<f64>,
    address: DocAddress,
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key
            .0
            .total_cmp(&other.key.0)
            .then(self.key.1.total_cmp(&other.key.1))
            // Earlier documents first among equals: the order is stable between pages.
            .then(other.address.cmp(&self.address))
    }
}

/// The best `keep`, worst on top so that it is the one pushed out.
#[derive(Default)]
struct Best {
    keep: usize,
    heap: BinaryHeap<std::cmp::Reverse<Ranked>>,
}

impl Best {
    fn offer(&mut self, ranked: Ranked) {
        if self.heap.len() < self.keep {
            self.heap.push(std::cmp::Reverse(ranked));
        } else if self.heap.peek().is_some_and(|worst| ranked > worst.0) {
            self.heap.pop();
            self.heap.push(std::cmp::Reverse(ranked));
        }
    }

    fn into_sorted(self) -> Vec<Ranked> {
        let mut all: Vec<Ranked> = self.heap.into_iter().map(|r| r.0).collect();
        all.sort_by(|a, b| b.cmp(a));
        all
    }
}

struct Collected {
    top: Vec<Ranked>,
    total: u64,
    facets: Facets,
}

struct SegmentMatches {
    segment: SegmentOrdinal,
    sort: Sort,
    near: Option<(f64, f64, Option<f64>)>,
    /// Around the radius: what is outside needs no exact distance.
    bounds: Option<((f64, f64), (f64, f64))>,
    price_range: (Option<i64>, Option<i64>),
    open_at: Option<u64>,
    lat: Column<f64>,
    lon: Column<f64>,
    price: Column<i64>,
    rating: Column<f64>,
    in_stock: Column<u64>,
    hours: Column<u64>,
    kind: Option<StrColumn>,
    category: Option<StrColumn>,
    kinds: Vec<u64>,
    categories: Vec<u64>,
    bands: [u64; PRICE_BANDS.len()],
    total: u64,
    best: Best,
}

impl Collector for Matches {
    type Fruit = Collected;
    type Child = SegmentMatches;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentMatches> {
        let fast = reader.fast_fields();
        let (kind, category) = if self.facets {
            (fast.str("kind")?, fast.str("category")?)
        } else {
            (None, None)
        };
        Ok(SegmentMatches {
            segment,
            sort: self.sort,
            near: self.near,
            bounds: self.near.and_then(|(lat, lon, radius)| {
                radius.map(|radius| ordo_kernel::geo::bounding_box((lat, lon), radius))
            }),
            price_range: self.price,
            open_at: self.open_at,
            lat: fast.f64("lat")?,
            lon: fast.f64("lon")?,
            price: fast.i64("price")?,
            rating: fast.f64("rating")?,
            in_stock: fast.u64("in_stock")?,
            hours: fast.u64("hours")?,
            kinds: vec![0; kind.as_ref().map_or(0, |c| c.num_terms())],
            categories: vec![0; category.as_ref().map_or(0, |c| c.num_terms())],
            kind,
            category,
            bands: [0; PRICE_BANDS.len()],
            total: 0,
            best: Best {
                keep: self.keep,
                heap: BinaryHeap::with_capacity(self.keep + 1),
            },
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<SegmentFound>) -> tantivy::Result<Collected> {
        let mut best = Best {
            keep: self.keep,
            heap: BinaryHeap::with_capacity(self.keep + 1),
        };
        let mut total = 0;
        let mut kinds: HashMap<String, u64> = HashMap::new();
        let mut categories: HashMap<String, u64> = HashMap::new();
        let mut price = [0; PRICE_BANDS.len()];
        for fruit in fruits {
            total += fruit.total;
            for ranked in fruit.top {
                best.offer(ranked);
            }
            for (value, count) in fruit.kinds {
                *kinds.entry(value).or_default() += count;
            }
            for (value, count) in fruit.categories {
                *categories.entry(value).or_default() += count;
            }
            for (sum, count) in price.iter_mut().zip(fruit.bands) {
                *sum += count;
            }
        }
        Ok(Collected {
            top: best.into_sorted(),
            total,
            facets: Facets {
                kind: by_count(kinds),
                category: by_count(categories),
                price,
            },
        })
    }
}

/// Most frequent first, then by name.
fn by_count(counts: HashMap<String, u64>) -> Vec<(String, u64)> {
    let mut counts: Vec<(String, u64)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts
}

struct SegmentFound {
    top: Vec<Ranked>,
    total: u64,
    kinds: Vec<(String, u64)>,
    categories: Vec<(String, u64)>,
    bands: [u64; PRICE_BANDS.len()],
}

fn named(column: Option<&StrColumn>, counts: &[u64]) -> Vec<(String, u64)> {
    let Some(column) = column else {
        return Vec::new();
    };
    counts
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .filter_map(|(ord, count)| {
            let mut value = String::new();
            column
                .ord_to_str(ord as u64, &mut value)
                .ok()
                .filter(|found| *found)
                .map(|_| (value, *count))
        })
        .collect()
}

impl SegmentCollector for SegmentMatches {
    type Fruit = SegmentFound;

    fn collect(&mut self, doc: DocId, score: Score) {
        let distance = match self.near {
            None => None,
            Some((lat, lon, _)) => {
                let at = (
                    self.lat.first(doc).unwrap_or(0.0),
                    self.lon.first(doc).unwrap_or(0.0),
                );
                if let Some(((south, west), (north, east))) = self.bounds
                    && !(south <= at.0 && at.0 <= north && west <= at.1 && at.1 <= east)
                {
                    return;
                }
                Some(ordo_kernel::geo::distance_km((lat, lon), at))
            }
        };
        if let (Some(distance), Some((_, _, Some(radius)))) = (distance, self.near)
            && distance > radius
        {
            return;
        }
        let price = self.price.first(doc);
        if let (min, max) = self.price_range
            && (min.is_some() || max.is_some())
        {
            let Some(price) = price else { return };
            if min.is_some_and(|min| price < min) || max.is_some_and(|max| price > max) {
                return;
            }
        }
        if let Some(minute) = self.open_at
            && !self
                .hours
                .values_for_doc(doc)
                .any(|range| (range >> 16) <= minute && minute < (range & 0xffff))
        {
            return;
        }
        self.total += 1;
        if let Some(kind) = &self.kind {
            for ord in kind.term_ords(doc) {
                self.kinds[ord as usize] += 1;
            }
        }
        if let Some(category) = &self.category {
            for ord in category.term_ords(doc) {
                self.categories[ord as usize] += 1;
            }
        }
        if let Some(price) = price {
            self.bands[domain::price_band(price)] += 1;
        }
        // A merchant has no stock column: it is never "out of stock".
        let score = if self.in_stock.first(doc) == Some(0) {
            score * OUT_OF_STOCK
        } else {
            score
        };
        let rating = self.rating.first(doc).unwrap_or(0.0);
        let key = match self.sort {
            Sort::Relevance => (f64::from(score), rating),
            Sort::Distance => (-distance.unwrap_or(0.0), f64::from(score)),
            Sort::Rating => (rating, f64::from(score)),
        };
        self.best.offer(Ranked {
            key,
            score,
            distance,
            address: DocAddress::new(self.segment, doc),
        });
    }

    fn harvest(self) -> SegmentFound {
        SegmentFound {
            kinds: named(self.kind.as_ref(), &self.kinds),
            categories: named(self.category.as_ref(), &self.categories),
            top: self.best.into_sorted(),
            total: self.total,
            bands: self.bands,
        }
    }
}
