//! Writes a codebook column chunk directly from its codebook positions, with the bytes and metadata the `parquet`
//! crate's column writer followed by the [`crate::parquet_dict::CodebookPages`] rewrite produces, at a fraction of
//! the cost (no string per row, no interner, no per-value statistics, no decompress-remap-recompress).
//!
//! What is replicated from the crate (version 57, writer version 1, statistics per page, no page header
//! statistics, no bloom filter): data pages close after a mini-batch of `write_batch_size` rows when the page holds
//! `data_page_row_count_limit` rows or the crate's estimate of its dictionary indices reaches `data_page_size_limit`
//! (the estimate uses the bit width of the distinct values seen so far in the chunk); the dictionary page (the
//! codebook, PLAIN) is written first, then the data pages (levels as the crate encodes them, then the indices with
//! the codebook's bit width); page minimum and maximum are the smallest and largest label bytes present; the chunk
//! statistics, level histograms, column index (with its boundary order) and offset index follow the crate's rules,
//! truncation included. [`supported`] says when these rules hold; otherwise the caller uses the column writer.

use bytes::Bytes;
use parquet::basic::{
    BoundaryOrder, Compression, ConvertedType, Encoding, EncodingMask, LogicalType, PageType,
    Type as PhysicalType,
};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::ColumnCloseResult;
use parquet::data_type::ByteArray;
use parquet::errors::ParquetError;
use parquet::file::metadata::{
    ColumnChunkMetaData, ColumnIndexBuilder, LevelHistogram, OffsetIndexBuilder, PageEncodingStats,
};
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use parquet::file::statistics::{Statistics, ValueStatistics};
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::parquet_dict::{DictError, plain_dictionary};
use crate::parquet_rle;

/// Whether [`write()`] gives the bytes of the column writer for this column, codebook and settings: a flat
/// BYTE_ARRAY column (optional or required), writer version 1, dictionary on, statistics per page and not in page
/// headers, no bloom filter, snappy or no compression, a codebook of distinct labels whose dictionary stays under
/// the dictionary size limit (so the writer never falls back to PLAIN).
pub fn supported(descr: &ColumnDescPtr, props: &WriterProperties, codebook: &[String]) -> bool {
    let path = descr.path();
    let plain_size: usize = codebook.iter().map(|l| l.len() + 4).sum();
    descr.physical_type() == PhysicalType::BYTE_ARRAY
        && descr.max_rep_level() == 0
        && descr.max_def_level() <= 1
        && props.writer_version() == WriterVersion::PARQUET_1_0
        && props.dictionary_enabled(path)
        && props.statistics_enabled(path) == EnabledStatistics::Page
        && !props.write_page_header_statistics(path)
        && props.bloom_filter_properties(path).is_none()
        && matches!(
            props.compression(path),
            Compression::UNCOMPRESSED | Compression::SNAPPY
        )
        && props.write_batch_size() > 0
        && plain_size < props.column_dictionary_page_size_limit(path)
        && distinct(codebook)
}

fn distinct(codebook: &[String]) -> bool {
    let mut sorted: Vec<&str> = codebook.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.windows(2).all(|w| w[0] != w[1])
}

/// The codebook's labels as bytes and their byte order.
struct Labels<'a> {
    bytes: Vec<&'a [u8]>,
    /// Codebook positions from the smallest label bytes to the largest.
    order: Vec<u32>,
}

impl<'a> Labels<'a> {
    fn new(codebook: &'a [String]) -> Self {
        let bytes: Vec<&[u8]> = codebook.iter().map(|l| l.as_bytes()).collect();
        let mut order: Vec<u32> = (0..bytes.len() as u32).collect();
        order.sort_by(|a, b| bytes.get(*a as usize).cmp(&bytes.get(*b as usize)));
        Labels { bytes, order }
    }

    fn get(&self, position: u32) -> &'a [u8] {
        self.bytes
            .get(position as usize)
            .copied()
            .unwrap_or_default()
    }
}

/// What one data page holds, for its statistics and the indexes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PageFacts {
    rows: usize,
    nulls: usize,
    /// Codebook positions of the smallest and largest label present (`None`: only nulls).
    min_max: Option<(u32, u32)>,
    /// Bytes of the non-null labels.
    label_bytes: i64,
}

/// The sizes, offsets and statistics gathered while the pages are written.
#[derive(Default)]
struct ChunkTotals {
    uncompressed: u64,
    compressed: u64,
    bytes_written: u64,
    num_values: u64,
    rows: u64,
    nulls: u64,
    data_pages: i32,
    data_page_offset: Option<u64>,
    dictionary_page_offset: Option<u64>,
    label_bytes: Option<i64>,
    min_max: Option<(u32, u32)>,
}

impl ChunkTotals {
    fn add_spec(&mut self, spec: &PageWriteSpec) {
        self.uncompressed += spec.uncompressed_size as u64;
        self.compressed += spec.compressed_size as u64;
        self.bytes_written += spec.bytes_written;
        match spec.page_type {
            PageType::DICTIONARY_PAGE => self.dictionary_page_offset = Some(spec.offset),
            _ => {
                self.num_values += u64::from(spec.num_values);
                self.data_page_offset.get_or_insert(spec.offset);
            }
        }
    }
}

/// Writes one column chunk of codebook positions (`None`: null) into a buffer, as [`supported`] settings of the
/// column writer would; returns the bytes and the close result to append to a row group.
pub fn write(
    descr: ColumnDescPtr,
    props: &WriterProperties,
    codebook: &[String],
    positions: &[Option<u32>],
) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
    let labels = Labels::new(codebook);
    let bit_width = parquet_rle::bit_width(codebook.len().saturating_sub(1) as u32).max(1);
    let snappy = props.compression(descr.path()) == Compression::SNAPPY;
    let mut pages_out = PagesOut::new(snappy, descr.max_def_level());
    let mut sink = TrackedWrite::new(Vec::new());
    let mut index = Indexes::new(&descr, props);
    let mut totals = ChunkTotals::default();
    {
        let mut writer = SerializedPageWriter::new(&mut sink);
        let dictionary = Page::DictionaryPage {
            buf: Bytes::from(plain_dictionary(codebook)),
            num_values: codebook.len() as u32,
            encoding: props.dictionary_page_encoding(),
            is_sorted: false,
        };
        let spec = writer.write_page(pages_out.compress(dictionary)?)?;
        totals.add_spec(&spec);
        for_each_page(&descr, props, &labels, positions, |scan, facts| {
            let page = pages_out.data_page(scan, bit_width)?;
            let spec = writer.write_page(page)?;
            totals.add_spec(&spec);
            index.add_page(facts, &spec, &labels, &mut totals);
            Ok(())
        })?;
        writer.close()?;
    }
    let metadata = chunk_metadata(&descr, props, &totals, &labels, index.histogram.clone())?;
    let close = ColumnCloseResult {
        bytes_written: totals.bytes_written,
        rows_written: totals.rows,
        metadata,
        bloom_filter: None,
        column_index: index.column_index()?,
        offset_index: index.offset.map(OffsetIndexBuilder::build),
    };
    Ok((Bytes::from(sink.into_inner()?), close))
}

/// Splits the rows into data pages where the column writer splits them, scanning each page on the way, and hands
/// each page to `emit`; checks every position (the first bad row in row order is the error, as with the column
/// writer path).
fn for_each_page(
    descr: &ColumnDescPtr,
    props: &WriterProperties,
    labels: &Labels,
    positions: &[Option<u32>],
    mut emit: impl FnMut(&PageScan, &PageFacts) -> Result<(), ParquetError>,
) -> Result<(), ParquetError> {
    let batch = props.write_batch_size().max(1);
    let required = descr.max_def_level() == 0;
    let codebook_len = labels.bytes.len();
    let mut seen = vec![false; codebook_len];
    let mut distinct = 0usize;
    let mut scan = PageScan::new(codebook_len);
    for chunk in positions.chunks(batch) {
        for p in chunk {
            match p {
                Some(i) => {
                    let flag = seen.get_mut(*i as usize).ok_or(DictError::Index {
                        index: *i,
                        len: codebook_len,
                    })?;
                    distinct += usize::from(!*flag);
                    *flag = true;
                }
                None if required => {
                    return Err(DictError::NullInRequired(descr.path().string()).into());
                }
                None => {}
            }
            scan.push(*p);
        }
        // the writer's estimate uses the bit width of the distinct values seen so far in the chunk
        let width = parquet_rle::bit_width(distinct.saturating_sub(1) as u32);
        if scan.rows >= props.data_page_row_count_limit()
            || max_rle_size(width, scan.indices.len()) >= props.data_page_size_limit()
        {
            emit(&scan, &scan.facts(labels))?;
            scan.clear();
        }
    }
    if scan.rows > 0 {
        emit(&scan, &scan.facts(labels))?;
    }
    Ok(())
}

/// The `parquet` crate's bound on the size of `count` values RLE-encoded with `width` bits (its page-size estimate
/// for dictionary indices).
fn max_rle_size(width: u8, count: usize) -> usize {
    let runs = count.div_ceil(8);
    let bit_packed = runs + runs * usize::from(width);
    let repeated = runs * (1 + usize::from(width).div_ceil(8));
    bit_packed.max(repeated)
}

/// The rows of the page being filled: its indices, definition level runs and label counts (buffers reused from
/// page to page).
struct PageScan {
    counts: Vec<u32>,
    /// Codebook positions of the non-null rows.
    indices: Vec<u32>,
    /// Definition levels (1: a value, 0: null) as runs of (level, count).
    runs: Vec<(u32, usize)>,
    rows: usize,
}

impl PageScan {
    fn new(codebook_len: usize) -> Self {
        PageScan {
            counts: vec![0; codebook_len],
            indices: Vec::new(),
            runs: Vec::new(),
            rows: 0,
        }
    }

    /// Adds one row (its position already checked against the codebook).
    fn push(&mut self, position: Option<u32>) {
        self.rows += 1;
        let level = match position {
            Some(i) => {
                if let Some(c) = self.counts.get_mut(i as usize) {
                    *c += 1;
                }
                self.indices.push(i);
                1
            }
            None => 0,
        };
        match self.runs.last_mut() {
            Some((last, n)) if *last == level => *n += 1,
            _ => self.runs.push((level, 1)),
        }
    }

    fn clear(&mut self) {
        self.counts.fill(0);
        self.indices.clear();
        self.runs.clear();
        self.rows = 0;
    }

    /// What the page scanned so far holds.
    fn facts(&self, labels: &Labels) -> PageFacts {
        let counts = &self.counts;
        let present = |p: &&u32| counts.get(**p as usize).is_some_and(|c| *c > 0);
        let min = labels.order.iter().find(present);
        let max = labels.order.iter().rev().find(present);
        let label_bytes = counts
            .iter()
            .zip(&labels.bytes)
            .map(|(c, l)| i64::from(*c) * l.len() as i64)
            .sum();
        PageFacts {
            rows: self.rows,
            nulls: self.rows - self.indices.len(),
            min_max: min.zip(max).map(|(a, b)| (*a, *b)),
            label_bytes,
        }
    }
}

/// Encodes and compresses pages.
struct PagesOut {
    snappy: Option<snap::raw::Encoder>,
    max_def: i16,
}

impl PagesOut {
    fn new(snappy: bool, max_def: i16) -> Self {
        PagesOut {
            snappy: snappy.then(snap::raw::Encoder::new),
            max_def,
        }
    }

    /// A v1 data page: definition levels, the index bit width, the indices of the non-null rows.
    fn data_page(&mut self, scan: &PageScan, bit_width: u8) -> Result<CompressedPage, DictError> {
        let mut buf = if self.max_def > 0 {
            parquet_rle::levels_v1(scan.runs.iter().copied(), self.max_def as u32)
        } else {
            Vec::new()
        };
        buf.push(bit_width);
        parquet_rle::encode_into(&mut buf, &scan.indices, bit_width);
        self.compress(Page::DataPage {
            buf: Bytes::from(buf),
            num_values: scan.rows as u32,
            encoding: Encoding::RLE_DICTIONARY,
            def_level_encoding: Encoding::RLE,
            rep_level_encoding: Encoding::RLE,
            statistics: None,
        })
    }

    fn compress(&mut self, page: Page) -> Result<CompressedPage, DictError> {
        let size = page.buffer().len();
        let Some(encoder) = self.snappy.as_mut() else {
            return Ok(CompressedPage::new(page, size));
        };
        let page = crate::parquet_dict::compressed(page, encoder)?;
        Ok(CompressedPage::new(page, size))
    }
}

/// Column index, offset index, level histograms and boundary order, page by page.
struct Indexes {
    descr: ColumnDescPtr,
    truncate: Option<usize>,
    column: ColumnIndexBuilder,
    offset: Option<OffsetIndexBuilder>,
    /// Definition level histogram of the chunk (`None` for a required column).
    histogram: Option<LevelHistogram>,
    ascending: bool,
    descending: bool,
    last: Option<(u32, u32)>,
}

impl Indexes {
    fn new(descr: &ColumnDescPtr, props: &WriterProperties) -> Self {
        Indexes {
            descr: descr.clone(),
            truncate: props.column_index_truncate_length(),
            column: ColumnIndexBuilder::new(descr.physical_type()),
            offset: (!props.offset_index_disabled()).then(OffsetIndexBuilder::new),
            histogram: LevelHistogram::try_new(descr.max_def_level()),
            ascending: true,
            descending: true,
            last: None,
        }
    }

    fn add_page(
        &mut self,
        facts: &PageFacts,
        spec: &PageWriteSpec,
        labels: &Labels,
        totals: &mut ChunkTotals,
    ) {
        let page_histogram = self.histogram.as_ref().map(|_| {
            LevelHistogram::from(vec![facts.nulls as i64, (facts.rows - facts.nulls) as i64])
        });
        let nulls = facts.nulls as i64;
        match facts.min_max {
            None => self.column.append(true, vec![], vec![], nulls),
            Some((min, max)) => {
                let (min_b, max_b) = (labels.get(min), labels.get(max));
                if let Some((last_min, last_max)) = self.last {
                    let (last_min, last_max) = (labels.get(last_min), labels.get(last_max));
                    if self.ascending && (last_min > min_b || last_max > max_b) {
                        self.ascending = false;
                    }
                    if self.descending && (min_b > last_min || max_b > last_max) {
                        self.descending = false;
                    }
                }
                self.last = Some((min, max));
                let is_utf8 = is_utf8(&self.descr);
                let min_v = truncate_min(self.truncate, min_b, is_utf8).0;
                let max_v = truncate_max(self.truncate, max_b, is_utf8).0;
                self.column.append(false, min_v, max_v, nulls);
                totals.min_max = Some(match totals.min_max {
                    None => (min, max),
                    Some((a, b)) => (
                        if labels.get(a) > min_b { min } else { a },
                        if max_b > labels.get(b) { max } else { b },
                    ),
                });
            }
        }
        self.column.append_histograms(&None, &page_histogram);
        if let (Some(chunk), Some(page)) = (self.histogram.as_mut(), page_histogram.as_ref()) {
            chunk.add(page);
        }
        if let Some(offset) = self.offset.as_mut() {
            offset.append_row_count(facts.rows as i64);
            offset.append_unencoded_byte_array_data_bytes(Some(facts.label_bytes));
            offset.append_offset_and_size(spec.offset as i64, spec.compressed_size as i32);
        }
        totals.rows += facts.rows as u64;
        totals.nulls += facts.nulls as u64;
        totals.data_pages += 1;
        *totals.label_bytes.get_or_insert(0) += facts.label_bytes;
    }

    fn column_index(
        &mut self,
    ) -> Result<Option<parquet::file::page_index::column_index::ColumnIndexMetaData>, ParquetError>
    {
        let order = match (self.ascending, self.descending) {
            (true, _) => BoundaryOrder::ASCENDING,
            (false, true) => BoundaryOrder::DESCENDING,
            (false, false) => BoundaryOrder::UNORDERED,
        };
        let mut column = std::mem::replace(
            &mut self.column,
            ColumnIndexBuilder::new(PhysicalType::BYTE_ARRAY),
        );
        column.set_boundary_order(order);
        column.build().map(Some)
    }
}

/// The chunk metadata as the column writer builds it.
fn chunk_metadata(
    descr: &ColumnDescPtr,
    props: &WriterProperties,
    totals: &ChunkTotals,
    labels: &Labels,
    histogram: Option<LevelHistogram>,
) -> Result<ColumnChunkMetaData, ParquetError> {
    let mut encodings = vec![Encoding::RLE, props.dictionary_page_encoding()];
    let mut stats = vec![PageEncodingStats {
        page_type: PageType::DICTIONARY_PAGE,
        encoding: props.dictionary_page_encoding(),
        count: 1,
    }];
    if totals.data_pages > 0 {
        encodings.push(Encoding::RLE_DICTIONARY);
        stats.push(PageEncodingStats {
            page_type: PageType::DATA_PAGE,
            encoding: Encoding::RLE_DICTIONARY,
            count: totals.data_pages,
        });
    }
    let signed = descr.sort_order().is_signed();
    let value = |p: u32| ByteArray::from(labels.get(p).to_vec());
    let statistics = ValueStatistics::<ByteArray>::new(
        totals.min_max.map(|(min, _)| value(min)),
        totals.min_max.map(|(_, max)| value(max)),
        None,
        Some(totals.nulls),
        false,
    )
    .with_backwards_compatible_min_max(signed);
    let statistics = truncate_statistics(descr, props, statistics);
    ColumnChunkMetaData::builder(descr.clone())
        .set_compression(props.compression(descr.path()))
        .set_encodings_mask(EncodingMask::new_from_encodings(encodings.iter()))
        .set_page_encoding_stats(stats)
        .set_total_compressed_size(totals.compressed as i64)
        .set_total_uncompressed_size(totals.uncompressed as i64)
        .set_num_values(totals.num_values as i64)
        .set_data_page_offset(totals.data_page_offset.unwrap_or(0) as i64)
        .set_dictionary_page_offset(totals.dictionary_page_offset.map(|o| o as i64))
        .set_statistics(statistics)
        .set_unencoded_byte_array_data_bytes(totals.label_bytes)
        .set_repetition_level_histogram(None)
        .set_definition_level_histogram(histogram)
        .build()
}

/// The chunk statistics truncated as the column writer truncates them.
fn truncate_statistics(
    descr: &ColumnDescPtr,
    props: &WriterProperties,
    stats: ValueStatistics<ByteArray>,
) -> Statistics {
    let (Some(min), Some(max)) = (stats.min_bytes_opt(), stats.max_bytes_opt()) else {
        return Statistics::ByteArray(stats);
    };
    let utf8 = is_utf8(descr);
    let length = props.statistics_truncate_length();
    let (min, min_cut) = truncate_min(length, min, utf8);
    let (max, max_cut) = truncate_max(length, max, utf8);
    Statistics::ByteArray(
        ValueStatistics::new(
            Some(min.into()),
            Some(max.into()),
            stats.distinct_count(),
            stats.null_count_opt(),
            descr.sort_order().is_signed(),
        )
        .with_max_is_exact(!max_cut)
        .with_min_is_exact(!min_cut),
    )
}

fn is_utf8(descr: &ColumnDescPtr) -> bool {
    descr.logical_type_ref() == Some(&LogicalType::String)
        || descr.converted_type() == ConvertedType::UTF8
}

/// A lower bound of at most `length` bytes (the `parquet` crate's `truncate_min_value`); `true` when cut.
fn truncate_min(length: Option<usize>, data: &[u8], utf8: bool) -> (Vec<u8>, bool) {
    length
        .filter(|l| data.len() > *l)
        .and_then(|l| match std::str::from_utf8(data) {
            Ok(s) if utf8 => {
                let split = (1..=l).rfind(|x| s.is_char_boundary(*x))?;
                Some(data.get(..split)?.to_vec())
            }
            _ => Some(data.get(..l)?.to_vec()),
        })
        .map(|cut| (cut, true))
        .unwrap_or_else(|| (data.to_vec(), false))
}

/// An upper bound of at most `length` bytes (the `parquet` crate's `truncate_max_value`); `true` when cut.
fn truncate_max(length: Option<usize>, data: &[u8], utf8: bool) -> (Vec<u8>, bool) {
    length
        .filter(|l| data.len() > *l)
        .and_then(|l| match std::str::from_utf8(data) {
            Ok(s) if utf8 => {
                let split = (l.saturating_sub(3)..=l).rfind(|x| s.is_char_boundary(*x))?;
                increment_utf8(s.get(..split)?)
            }
            _ => increment(data.get(..l)?.to_vec()),
        })
        .map(|cut| (cut, true))
        .unwrap_or_else(|| (data.to_vec(), false))
}

/// The string with its last incrementable character incremented (same UTF-8 width), shorter if needed.
fn increment_utf8(data: &str) -> Option<Vec<u8>> {
    for (idx, c) in data.char_indices().rev() {
        let len = c.len_utf8();
        if let Some(next) = char::from_u32(c as u32 + 1)
            && next.len_utf8() == len
        {
            let mut out = data.as_bytes().get(..idx + len)?.to_vec();
            next.encode_utf8(out.get_mut(idx..)?);
            return Some(out);
        }
    }
    None
}

/// The bytes incremented from the right (`None` when all are 0xFF).
fn increment(mut data: Vec<u8>) -> Option<Vec<u8>> {
    for byte in data.iter_mut().rev() {
        let (next, overflow) = byte.overflowing_add(1);
        *byte = next;
        if !overflow {
            return Some(data);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parquet_dict::write_codebook_chunk_with_column_writer;
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::file::properties::WriterPropertiesPtr;
    use parquet::file::writer::SerializedFileWriter;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use std::sync::Arc;

    /// The Parquet schema of one dictionary-of-strings column, optional or required.
    fn schema(nullable: bool) -> parquet::schema::types::SchemaDescriptor {
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
        parquet::arrow::ArrowSchemaConverter::new()
            .convert(&Schema::new(vec![Field::new("band", dict, nullable)]))
            .unwrap()
    }

    /// Labels in an order that is not their byte order: short, empty, multi-byte and over 64 bytes long.
    fn random_codebook(rng: &mut StdRng, len: usize) -> Vec<String> {
        let mut labels = std::collections::BTreeSet::new();
        while labels.len() < len {
            let label = match rng.random_range(0..7) {
                6 => "a".to_string() + &"😀".repeat(rng.random_range(14..18)),
                0 => String::new(),
                1 => format!("é{}ü", rng.random_range(0..1000)),
                2 => "x".repeat(rng.random_range(60..70)) + &rng.random_range(0..99).to_string(),
                3 => "\u{10FFFF}".repeat(rng.random_range(15..18)),
                _ => format!("label_{}", rng.random_range(0..100_000)),
            };
            labels.insert(label);
        }
        let mut labels: Vec<String> = labels.into_iter().collect();
        for i in (1..labels.len()).rev() {
            labels.swap(i, rng.random_range(0..=i));
        }
        labels
    }

    /// Positions of `rows` rows: nulls at `null_rate`, values drawn by one of several patterns.
    fn random_positions(
        rng: &mut StdRng,
        rows: usize,
        codebook: usize,
        null_rate: f64,
    ) -> Vec<Option<u32>> {
        let pattern = rng.random_range(0..5);
        let few = rng.random_range(1..=codebook.min(3)) as u32;
        let mut run_value = 0u32;
        (0..rows)
            .map(|i| {
                if null_rate > 0.0 && rng.random_bool(null_rate) {
                    return None;
                }
                let n = codebook as u32;
                Some(match pattern {
                    0 => rng.random_range(0..n),
                    1 => {
                        if rng.random_bool(0.05) {
                            run_value = rng.random_range(0..n);
                        }
                        run_value
                    }
                    2 => (i * n as usize / rows.max(1)) as u32,
                    3 => n - 1 - (i * n as usize / rows.max(1)) as u32,
                    _ => rng.random_range(0..few),
                })
            })
            .collect()
    }

    fn base_props() -> parquet::file::properties::WriterPropertiesBuilder {
        parquet::file::properties::WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("test".into())
    }

    /// The settings the property test runs under: the defaults of the pipeline's writer, then small pages,
    /// size-limited pages, short truncation, no compression and no offset index.
    fn settings() -> Vec<WriterPropertiesPtr> {
        vec![
            Arc::new(base_props().build()),
            Arc::new(
                base_props()
                    .set_data_page_row_count_limit(100)
                    .set_write_batch_size(50)
                    .build(),
            ),
            Arc::new(
                base_props()
                    .set_data_page_size_limit(40)
                    .set_write_batch_size(7)
                    .build(),
            ),
            Arc::new(
                base_props()
                    .set_statistics_truncate_length(Some(3))
                    .set_column_index_truncate_length(Some(2))
                    .set_compression(Compression::UNCOMPRESSED)
                    .set_offset_index_disabled(true)
                    .build(),
            ),
        ]
    }

    /// Writes the chunk both ways and compares the bytes and the whole close result.
    fn same_both_ways(
        props: &WriterPropertiesPtr,
        nullable: bool,
        codebook: &[String],
        positions: &[Option<u32>],
    ) {
        let schema = schema(nullable);
        let codebook: Arc<[String]> = Arc::from(codebook.to_vec());
        assert!(supported(&schema.column(0), props, &codebook));
        let (ours, ours_close) = write(schema.column(0), props, &codebook, positions).unwrap();
        let (theirs, theirs_close) =
            write_codebook_chunk_with_column_writer(schema.column(0), props, &codebook, positions)
                .unwrap();
        let case = format!(
            "rows {} codebook {} nullable {nullable} nulls {}",
            positions.len(),
            codebook.len(),
            positions.iter().filter(|p| p.is_none()).count()
        );
        assert!(ours == theirs, "bytes differ: {case}");
        assert_eq!(
            format!("{ours_close:?}"),
            format!("{theirs_close:?}"),
            "{case}"
        );
        assert_eq!(
            file_with(props, &schema, ours, ours_close),
            file_with(props, &schema, theirs, theirs_close),
            "{case}"
        );
    }

    /// A one-column file holding the chunk (footer, column and offset indexes included).
    fn file_with(
        props: &WriterPropertiesPtr,
        schema: &parquet::schema::types::SchemaDescriptor,
        bytes: Bytes,
        close: ColumnCloseResult,
    ) -> Vec<u8> {
        let mut file =
            SerializedFileWriter::new(Vec::new(), schema.root_schema_ptr(), Arc::clone(props))
                .unwrap();
        let mut row_group = file.next_row_group().unwrap();
        row_group.append_column(&bytes, close).unwrap();
        row_group.close().unwrap();
        file.into_inner().unwrap()
    }

    #[test]
    fn direct_chunks_equal_the_column_writer_on_random_columns() {
        let mut rng = StdRng::seed_from_u64(14);
        let settings = settings();
        let lengths = [0, 1, 1023, 1024, 1025, 20_480, 20_481, 65_536];
        for (case, rows) in lengths.iter().enumerate() {
            for null_rate in [0.0, 0.2, 1.0] {
                let size = rng.random_range(1..300);
                let codebook = random_codebook(&mut rng, size);
                let props = &settings[(case + (null_rate * 10.0) as usize) % settings.len()];
                let positions = random_positions(&mut rng, *rows, codebook.len(), null_rate);
                same_both_ways(props, true, &codebook, &positions);
                if null_rate == 0.0 {
                    same_both_ways(props, false, &codebook, &positions);
                }
            }
        }
        // every setting on mid-sized columns of every pattern, small and one-label codebooks included
        for props in &settings {
            for size in [1, 2, 5, 17, 256, 299] {
                let codebook = random_codebook(&mut rng, size);
                let rows = rng.random_range(0..5000);
                let null_rate = [0.0, 0.01, 0.5, 0.99][rng.random_range(0..4)];
                let positions = random_positions(&mut rng, rows, size, null_rate);
                same_both_ways(props, true, &codebook, &positions);
            }
        }
    }

    /// Long labels only, so that truncated minimum and maximum reach the statistics and the column index.
    #[test]
    fn long_labels_are_truncated_as_by_the_column_writer() {
        let codebook: Vec<String> = (14..19)
            .map(|k| "a".to_string() + &"😀".repeat(k))
            .chain((14..19).map(|k| "é".repeat(k * 2 + 1)))
            .collect();
        let mut rng = StdRng::seed_from_u64(7);
        for props in settings() {
            let positions = random_positions(&mut rng, 3000, codebook.len(), 0.1);
            same_both_ways(&props, true, &codebook, &positions);
        }
    }

    #[test]
    fn bad_positions_give_the_column_writer_errors() {
        let props: WriterPropertiesPtr = Arc::new(base_props().build());
        let codebook: Arc<[String]> = Arc::from(vec!["a".to_string(), "b".to_string()]);
        let both = |nullable: bool, positions: &[Option<u32>]| {
            let schema = schema(nullable);
            let ours = write(schema.column(0), &props, &codebook, positions).unwrap_err();
            let theirs = write_codebook_chunk_with_column_writer(
                schema.column(0),
                &props,
                &codebook,
                positions,
            )
            .unwrap_err();
            assert_eq!(ours.to_string(), theirs.to_string());
            ours.to_string()
        };
        let err = both(true, &[Some(0), None, Some(2), Some(7)]);
        assert!(err.contains("index 2 is outside"), "{err}");
        let err = both(false, &[Some(0), None, Some(9)]);
        assert!(
            err.contains("required in Parquet but holds a null"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_settings_are_recognised() {
        let descr = schema(true).column(0);
        let codebook = vec!["a".to_string(), "b".to_string()];
        assert!(supported(&descr, &base_props().build(), &codebook));
        let duplicated = vec!["a".to_string(), "a".to_string()];
        assert!(!supported(&descr, &base_props().build(), &duplicated));
        let big = vec!["x".repeat(100)];
        let small_dictionary = base_props().set_dictionary_page_size_limit(104).build();
        assert!(!supported(&descr, &small_dictionary, &big));
        assert!(supported(
            &descr,
            &base_props().set_dictionary_page_size_limit(105).build(),
            &big
        ));
        for props in [
            base_props().set_compression(Compression::LZ4_RAW).build(),
            base_props()
                .set_writer_version(WriterVersion::PARQUET_2_0)
                .build(),
            base_props()
                .set_statistics_enabled(EnabledStatistics::Chunk)
                .build(),
            base_props().set_dictionary_enabled(false).build(),
            base_props().set_bloom_filter_enabled(true).build(),
            base_props().set_write_page_header_statistics(true).build(),
        ] {
            assert!(!supported(&descr, &props, &codebook));
        }
    }

    #[test]
    fn truncation_follows_the_parquet_crate() {
        assert_eq!(truncate_min(Some(2), b"abc", true), (b"ab".to_vec(), true));
        assert_eq!(
            truncate_min(Some(3), b"abc", true),
            (b"abc".to_vec(), false)
        );
        assert_eq!(truncate_min(None, b"abc", true), (b"abc".to_vec(), false));
        // a character is not split
        assert_eq!(
            truncate_min(Some(2), "aé".as_bytes(), true),
            (b"a".to_vec(), true)
        );
        assert_eq!(truncate_max(Some(2), b"abc", true), (b"ac".to_vec(), true));
        assert_eq!(
            truncate_max(Some(1), &[0xff, 0xff], false),
            (vec![0xff, 0xff], false)
        );
        assert_eq!(
            truncate_max(Some(2), &[1, 0xff, 3], false),
            (vec![2, 0], true)
        );
        // the cut of a 4-byte character 3 bytes before the length
        let long = "a".to_string() + &"😀".repeat(17);
        let cut = "a".to_string() + &"😀".repeat(14) + "😁";
        assert_eq!(
            truncate_max(Some(64), long.as_bytes(), true),
            (cut.into_bytes(), true)
        );
        assert_eq!(increment_utf8("a\u{10FFFF}"), Some(b"b".to_vec()));
        assert_eq!(increment_utf8("\u{10FFFF}"), None);
    }

    #[test]
    fn page_size_estimate_is_the_crate_bound() {
        assert_eq!(max_rle_size(0, 0), 0);
        assert_eq!(max_rle_size(1, 8), 2);
        assert_eq!(max_rle_size(9, 9), 2 + 2 * 9);
        assert_eq!(max_rle_size(0, 16), 2);
    }
}
