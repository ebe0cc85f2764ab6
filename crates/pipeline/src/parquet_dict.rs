//! Codebook-ordered dictionaries in Parquet: writes a categorical column chunk whose dictionary page is the column's
//! whole codebook (categories, then the table's missing labels) in codebook order, whatever values the rows hold and
//! in whatever order they appear, so pandas, R and DuckDB see the same levels for every country.
//!
//! The `parquet` crate interns dictionary values in order of first appearance and drops unused ones, and its
//! encoder is private; so the column is encoded by its ordinary column writer, and the pages are rewritten on their
//! way to the file ([`CodebookPages`]): the dictionary page becomes the codebook (PLAIN), and the indices of each
//! dictionary-encoded data page (after its v1 levels) are decoded, remapped to codebook positions and encoded again
//! with the codebook's bit width. The column writer computes sizes, offsets and the column metadata from what the
//! rewritten pages occupy. The chunk is uncompressed or snappy-compressed (pages are decompressed for the rewrite
//! and compressed again).
//!
//! That path costs a string per row and a second encoding of every page; [`write_codebook_chunk`] takes it only for
//! settings [`crate::parquet_chunk`] does not replicate, and otherwise writes the same bytes directly.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{AnyDictionaryArray, Array, ArrayRef, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::ArrowNativeType;
use arrow::datatypes::{
    ArrowDictionaryKeyType, DataType, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use bytes::Bytes;
use parquet::basic::{Compression, Encoding};
use parquet::column::page::{CompressedPage, Page, PageWriteSpec, PageWriter};
use parquet::column::writer::{ColumnCloseResult, ColumnWriterImpl};
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterPropertiesPtr;
use parquet::file::writer::{SerializedPageWriter, TrackedWrite};
use parquet::schema::types::ColumnDescPtr;

use crate::parquet_rle::{self, RleError};

/// Why a page or a column could not be written with its codebook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DictError {
    #[error("column `{column}` holds a value that is not in its codebook ({codebook} labels)")]
    NotInCodebook { column: String, codebook: usize },
    #[error("column `{column}` is not a dictionary of strings")]
    NotDictionary { column: String },
    #[error("column `{0}` is required in Parquet but holds a null")]
    NullInRequired(String),
    #[error(
        "column `{column}` is compressed with {codec}; its dictionary can be rewritten only uncompressed or with snappy"
    )]
    Codec { column: String, codec: String },
    #[error("a snappy page is malformed: {0}")]
    Snappy(String),
    #[error("the dictionary page is malformed: {0}")]
    DictionaryPage(String),
    #[error("a dictionary-encoded data page came before the dictionary page")]
    NoDictionary,
    #[error("a data page is malformed: {0}")]
    DataPage(String),
    #[error("index {index} is outside the page's dictionary of {len} values")]
    Index { index: u32, len: usize },
    #[error("data page v2 is not supported by the dictionary rewrite")]
    PageV2,
    #[error("{0}")]
    Rle(#[from] RleError),
}

impl From<DictError> for ParquetError {
    fn from(e: DictError) -> Self {
        ParquetError::General(e.to_string())
    }
}

/// The PLAIN encoding of a dictionary of strings: per value its byte length (u32, little-endian) and its bytes.
pub fn plain_dictionary(values: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.iter().map(|v| v.len() + 4).sum());
    for v in values {
        out.extend_from_slice(&(v.len() as u32).to_le_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// Decodes `count` PLAIN byte-array values.
pub fn read_plain_dictionary(buf: &[u8], count: usize) -> Result<Vec<&[u8]>, DictError> {
    let mut out = Vec::with_capacity(count.min(buf.len() / 4));
    let mut pos = 0usize;
    for i in 0..count {
        let short = || DictError::DictionaryPage(format!("it ends at value {i} of {count}"));
        let len = buf
            .get(pos..pos + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(short)?;
        let len = u32::from_le_bytes(len) as usize;
        pos += 4;
        let value = pos
            .checked_add(len)
            .and_then(|end| buf.get(pos..end))
            .ok_or_else(short)?;
        pos += len;
        out.push(value);
    }
    Ok(out)
}

/// Rewrites the value part of one v1 data page: `buf` holds the repetition levels (when `max_rep > 0`), the
/// definition levels (when `max_def > 0`), each with its 4-byte length, then the index bit width and the indices
/// of the non-null values. Returns the page with the same levels and the indices mapped through `remap`, encoded
/// with `bit_width`.
pub fn remap_data_page(
    buf: &[u8],
    num_values: usize,
    max_def: i16,
    max_rep: i16,
    remap: &[u32],
    bit_width: u8,
) -> Result<Vec<u8>, DictError> {
    let malformed = |what: &str| DictError::DataPage(what.to_string());
    let mut pos = 0usize;
    let levels = |pos: &mut usize| -> Result<&[u8], DictError> {
        let len = buf
            .get(*pos..*pos + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .ok_or_else(|| malformed("its levels end early"))?;
        let len = u32::from_le_bytes(len) as usize;
        let start = *pos + 4;
        let data = start
            .checked_add(len)
            .and_then(|end| buf.get(start..end))
            .ok_or_else(|| malformed("its levels end early"))?;
        *pos = start + len;
        Ok(data)
    };
    if max_rep > 0 {
        levels(&mut pos)?;
    }
    let non_null = if max_def > 0 {
        let data = levels(&mut pos)?;
        let width = parquet_rle::bit_width(max_def as u32);
        let (defs, _) = parquet_rle::decode(data, width, num_values)?;
        defs.iter().filter(|d| **d == max_def as u32).count()
    } else {
        num_values
    };
    let mut out = Vec::with_capacity(buf.len() + 8);
    out.extend_from_slice(&buf[..pos]);
    out.push(bit_width);
    let Some((&old_width, encoded)) = buf.get(pos..).and_then(|rest| rest.split_first()) else {
        if non_null == 0 {
            return Ok(out);
        }
        return Err(malformed("it has no indices"));
    };
    let (indices, _) = parquet_rle::decode(encoded, old_width, non_null)?;
    let mapped = indices
        .iter()
        .map(|&i| {
            remap.get(i as usize).copied().ok_or(DictError::Index {
                index: i,
                len: remap.len(),
            })
        })
        .collect::<Result<Vec<u32>, DictError>>()?;
    out.extend(parquet_rle::encode(&mapped, bit_width));
    Ok(out)
}

/// A v1 dictionary or data page with its buffer snappy-compressed by `encoder` (the other fields as they are).
pub(crate) fn compressed(page: Page, encoder: &mut snap::raw::Encoder) -> Result<Page, DictError> {
    let mut compress = |buf: &Bytes| {
        encoder
            .compress_vec(buf)
            .map(Bytes::from)
            .map_err(|e| DictError::Snappy(e.to_string()))
    };
    Ok(match page {
        Page::DictionaryPage {
            buf,
            num_values,
            encoding,
            is_sorted,
        } => Page::DictionaryPage {
            buf: compress(&buf)?,
            num_values,
            encoding,
            is_sorted,
        },
        Page::DataPage {
            buf,
            num_values,
            encoding,
            def_level_encoding,
            rep_level_encoding,
            statistics,
        } => Page::DataPage {
            buf: compress(&buf)?,
            num_values,
            encoding,
            def_level_encoding,
            rep_level_encoding,
            statistics,
        },
        Page::DataPageV2 { .. } => return Err(DictError::PageV2),
    })
}

/// A [`PageWriter`] that turns the pages of one dictionary-encoded column into pages of its codebook before passing
/// them to `inner`.
pub struct CodebookPages<P> {
    inner: P,
    codebook: Arc<[String]>,
    plain: Bytes,
    bit_width: u8,
    max_def: i16,
    max_rep: i16,
    /// Pages are snappy-compressed (else uncompressed).
    snappy: bool,
    /// Codebook position of each value of the writer's own dictionary, once its dictionary page has passed.
    remap: Option<Vec<u32>>,
}

impl<P: PageWriter> CodebookPages<P> {
    pub fn new(
        inner: P,
        codebook: Arc<[String]>,
        max_def: i16,
        max_rep: i16,
        snappy: bool,
    ) -> Self {
        let plain = Bytes::from(plain_dictionary(&codebook));
        // at least one bit: every reader handles it, and a one-label codebook is rare enough
        let bit_width = parquet_rle::bit_width(codebook.len().saturating_sub(1) as u32).max(1);
        CodebookPages {
            inner,
            codebook,
            plain,
            bit_width,
            max_def,
            max_rep,
            snappy,
            remap: None,
        }
    }

    /// A page's bytes as written by the column writer, uncompressed.
    fn open(&self, buf: &Bytes) -> Result<Bytes, DictError> {
        if !self.snappy {
            return Ok(buf.clone());
        }
        snap::raw::Decoder::new()
            .decompress_vec(buf)
            .map(Bytes::from)
            .map_err(|e| DictError::Snappy(e.to_string()))
    }

    /// The rewritten page compressed like the others, and its uncompressed size.
    fn close_page(&self, page: Page) -> Result<CompressedPage, DictError> {
        let size = page.buffer().len();
        if !self.snappy {
            return Ok(CompressedPage::new(page, size));
        }
        let mut encoder = snap::raw::Encoder::new();
        let page = compressed(page, &mut encoder)?;
        Ok(CompressedPage::new(page, size))
    }

    fn rewrite(&mut self, page: &Page) -> Result<Option<Page>, DictError> {
        match page {
            Page::DictionaryPage {
                buf,
                num_values,
                encoding,
                ..
            } => {
                let buf = self.open(buf)?;
                let values = read_plain_dictionary(&buf, *num_values as usize)?;
                let position: HashMap<&[u8], u32> = self
                    .codebook
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.as_bytes(), i as u32))
                    .collect();
                let remap = values
                    .iter()
                    .map(|v| position.get(v).copied())
                    .collect::<Option<Vec<u32>>>()
                    .ok_or_else(|| {
                        DictError::DictionaryPage("it holds a value outside the codebook".into())
                    })?;
                self.remap = Some(remap);
                Ok(Some(Page::DictionaryPage {
                    buf: self.plain.clone(),
                    num_values: self.codebook.len() as u32,
                    encoding: *encoding,
                    is_sorted: false,
                }))
            }
            Page::DataPage {
                buf,
                num_values,
                encoding: encoding @ (Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY),
                def_level_encoding,
                rep_level_encoding,
                statistics,
            } => {
                let buf = self.open(buf)?;
                let remap = self.remap.as_deref().ok_or(DictError::NoDictionary)?;
                let rewritten = remap_data_page(
                    &buf,
                    *num_values as usize,
                    self.max_def,
                    self.max_rep,
                    remap,
                    self.bit_width,
                )?;
                Ok(Some(Page::DataPage {
                    buf: Bytes::from(rewritten),
                    num_values: *num_values,
                    encoding: *encoding,
                    def_level_encoding: *def_level_encoding,
                    rep_level_encoding: *rep_level_encoding,
                    statistics: statistics.clone(),
                }))
            }
            // values written in full (the writer's fallback when a dictionary grows too large) stay as they are
            Page::DataPage { .. } => Ok(None),
            Page::DataPageV2 { .. } => Err(DictError::PageV2),
        }
    }
}

impl<P: PageWriter> PageWriter for CodebookPages<P> {
    fn write_page(&mut self, page: CompressedPage) -> parquet::errors::Result<PageWriteSpec> {
        match self.rewrite(page.compressed_page())? {
            Some(rewritten) => {
                let page = self.close_page(rewritten)?;
                self.inner.write_page(page)
            }
            None => self.inner.write_page(page),
        }
    }

    fn close(&mut self) -> parquet::errors::Result<()> {
        self.inner.close()
    }
}

/// Codebook position of each row's label (`None` for a null) of a dictionary-of-strings column.
pub fn codebook_positions(
    name: &str,
    column: &ArrayRef,
    codebook: &[String],
) -> Result<Vec<Option<u32>>, DictError> {
    let not_dictionary = || DictError::NotDictionary {
        column: name.to_string(),
    };
    let dict = column.as_any_dictionary_opt().ok_or_else(not_dictionary)?;
    if !matches!(dict.values().data_type(), DataType::Utf8) {
        return Err(not_dictionary());
    }
    let nulls = column.logical_nulls();
    let is_null = |i: usize| nulls.as_ref().is_some_and(|n| n.is_null(i));
    let values = dict.values().as_string::<i32>();
    if values.is_empty() {
        return match (0..column.len()).all(is_null) {
            true => Ok(vec![None; column.len()]),
            false => Err(not_dictionary()),
        };
    }
    let position: HashMap<&str, u32> = codebook
        .iter()
        .enumerate()
        .map(|(i, v)| (v.as_str(), i as u32))
        .collect();
    let outside = || DictError::NotInCodebook {
        column: name.to_string(),
        codebook: codebook.len(),
    };
    // Codebook position of each dictionary value (None: not in the codebook; an error only if a row uses it).
    let value_position: Vec<Option<u32>> = (0..values.len())
        .map(|i| match values.is_null(i) {
            true => None,
            false => position.get(values.value(i)).copied(),
        })
        .collect();
    let nulls = nulls.as_ref();
    let typed = match dict.keys().data_type() {
        DataType::Int8 => typed_positions::<Int8Type>(column, nulls, &value_position),
        DataType::Int16 => typed_positions::<Int16Type>(column, nulls, &value_position),
        DataType::Int32 => typed_positions::<Int32Type>(column, nulls, &value_position),
        DataType::Int64 => typed_positions::<Int64Type>(column, nulls, &value_position),
        DataType::UInt8 => typed_positions::<UInt8Type>(column, nulls, &value_position),
        DataType::UInt16 => typed_positions::<UInt16Type>(column, nulls, &value_position),
        DataType::UInt32 => typed_positions::<UInt32Type>(column, nulls, &value_position),
        DataType::UInt64 => typed_positions::<UInt64Type>(column, nulls, &value_position),
        _ => None,
    };
    match typed {
        Some(positions) => positions,
        None => normalized_positions(dict, nulls, &value_position),
    }
    .ok_or_else(outside)
}

/// The codebook position of each row from the dictionary's keys, whatever their type (`None` when a non-null
/// row's value has no position).
fn normalized_positions(
    dict: &dyn AnyDictionaryArray,
    nulls: Option<&NullBuffer>,
    value_position: &[Option<u32>],
) -> Option<Vec<Option<u32>>> {
    dict.normalized_keys()
        .into_iter()
        .enumerate()
        .map(|(row, key)| {
            if nulls.is_some_and(|n| n.is_null(row)) {
                return Some(None);
            }
            value_position.get(key).copied().flatten().map(Some)
        })
        .collect()
}

/// The codebook position of each row from the dictionary's keys of type `K` (`None` when the column's keys are
/// not of that type; `Some(None)` when a non-null row's value has no position).
fn typed_positions<K: ArrowDictionaryKeyType>(
    column: &ArrayRef,
    nulls: Option<&NullBuffer>,
    value_position: &[Option<u32>],
) -> Option<Option<Vec<Option<u32>>>> {
    let keys = column.as_dictionary_opt::<K>()?.keys().values();
    let mut out = Vec::with_capacity(keys.len());
    for (row, key) in keys.iter().enumerate() {
        if nulls.is_some_and(|n| n.is_null(row)) {
            out.push(None);
            continue;
        }
        match key
            .to_usize()
            .and_then(|k| value_position.get(k).copied().flatten())
        {
            Some(p) => out.push(Some(p)),
            None => return Some(None),
        }
    }
    Some(Some(out))
}

/// Writes one column chunk of codebook positions (`None`: null) into a buffer; returns the bytes and the close
/// result to append to a row group. The chunk is encoded directly from the positions ([`crate::parquet_chunk`])
/// when its settings allow, else through [`write_codebook_chunk_with_column_writer`]; both give the same bytes.
pub fn write_codebook_chunk(
    descr: ColumnDescPtr,
    props: &WriterPropertiesPtr,
    codebook: &Arc<[String]>,
    positions: &[Option<u32>],
) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
    if crate::parquet_chunk::supported(&descr, props, codebook) {
        return crate::parquet_chunk::write(descr, props, codebook, positions);
    }
    write_codebook_chunk_with_column_writer(descr, props, codebook, positions)
}

/// Writes one column chunk of codebook positions with the column writer of the `parquet` crate (one label per
/// row) and [`CodebookPages`]: the reference the direct encoder is tested against, and the path for settings it
/// does not replicate.
pub fn write_codebook_chunk_with_column_writer(
    descr: ColumnDescPtr,
    props: &WriterPropertiesPtr,
    codebook: &Arc<[String]>,
    positions: &[Option<u32>],
) -> Result<(Bytes, ColumnCloseResult), ParquetError> {
    let name = descr.path().string();
    let snappy = match props.compression(descr.path()) {
        Compression::UNCOMPRESSED => false,
        Compression::SNAPPY => true,
        codec => {
            return Err(DictError::Codec {
                column: name,
                codec: codec.to_string(),
            }
            .into());
        }
    };
    let labels: Vec<ByteArray> = codebook
        .iter()
        .map(|v| ByteArray::from(Bytes::from(v.clone().into_bytes())))
        .collect();
    let max_def = descr.max_def_level();
    let max_rep = descr.max_rep_level();
    let mut values = Vec::with_capacity(positions.len());
    let mut defs = Vec::with_capacity(if max_def > 0 { positions.len() } else { 0 });
    for p in positions {
        match p {
            Some(i) => {
                let label = labels.get(*i as usize).ok_or(DictError::Index {
                    index: *i,
                    len: labels.len(),
                })?;
                values.push(label.clone());
                if max_def > 0 {
                    defs.push(max_def);
                }
            }
            None if max_def > 0 => defs.push(max_def - 1),
            None => return Err(DictError::NullInRequired(name).into()),
        }
    }
    let mut sink = TrackedWrite::new(Vec::new());
    let close = {
        let pages = CodebookPages::new(
            SerializedPageWriter::new(&mut sink),
            Arc::clone(codebook),
            max_def,
            max_rep,
            snappy,
        );
        let mut writer =
            ColumnWriterImpl::<ByteArrayType>::new(descr, Arc::clone(props), Box::new(pages));
        writer.write_batch(&values, (max_def > 0).then_some(&defs[..]), None)?;
        writer.close()?
    };
    Ok((Bytes::from(sink.into_inner()?), close))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, Int8Array, StringArray};
    use arrow::datatypes::{Int8Type, Int16Type};

    fn codebook() -> Vec<String> {
        ["12-13", "14-15", "16-17", "dont_know", "not_collected"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn plain_dictionary_round_trip() {
        let values = codebook();
        let encoded = plain_dictionary(&values);
        assert_eq!(&encoded[..9], &[5, 0, 0, 0, b'1', b'2', b'-', b'1', b'3']);
        let decoded = read_plain_dictionary(&encoded, values.len()).unwrap();
        assert_eq!(
            decoded,
            values.iter().map(|v| v.as_bytes()).collect::<Vec<_>>()
        );
        let n = values.len();
        assert!(matches!(read_plain_dictionary(&encoded, n + 1),
                Err(DictError::DictionaryPage(m)) if m == format!("it ends at value {n} of {}", n + 1)));
        assert!(matches!(read_plain_dictionary(&encoded[..6], 1),
                Err(DictError::DictionaryPage(m)) if m == "it ends at value 0 of 1"));
    }

    #[test]
    fn data_page_indices_are_remapped_and_levels_kept() {
        // rows: 14-15, null, 16-17, 14-15, 12-13; the writer's dictionary was [14-15, 16-17, 12-13]
        let defs = parquet_rle::encode(&[1, 0, 1, 1, 1], 1);
        let mut page = (defs.len() as u32).to_le_bytes().to_vec();
        page.extend(&defs);
        let levels_len = page.len();
        page.push(2);
        page.extend(parquet_rle::encode(&[0, 1, 0, 2], 2));
        let remap = [1, 2, 0];
        let out = remap_data_page(&page, 5, 1, 0, &remap, 3).unwrap();
        assert_eq!(&out[..levels_len], &page[..levels_len]);
        assert_eq!(out[levels_len], 3);
        let (indices, _) = parquet_rle::decode(&out[levels_len + 1..], 3, 4).unwrap();
        assert_eq!(indices, vec![1, 2, 1, 0]);
        // an index the page's dictionary does not have
        assert_eq!(
            remap_data_page(&page, 5, 1, 0, &[1, 2], 3),
            Err(DictError::Index { index: 2, len: 2 })
        );
        // a page cut inside its levels
        assert!(matches!(
            remap_data_page(&page[..3], 5, 1, 0, &remap, 3),
            Err(DictError::DataPage(_))
        ));
        // a required column has no definition levels
        let mut required = vec![2];
        required.extend(parquet_rle::encode(&[2, 2, 0], 2));
        let out = remap_data_page(&required, 3, 0, 0, &remap, 3).unwrap();
        assert_eq!(
            parquet_rle::decode(&out[1..], out[0], 3).unwrap().0,
            vec![0, 0, 1]
        );
    }

    #[test]
    fn positions_follow_the_codebook_whatever_the_dictionary() {
        let keys = Int8Array::from(vec![Some(0), None, Some(1), Some(0)]);
        let values = StringArray::from(vec!["16-17", "12-13"]);
        let column: ArrayRef =
            Arc::new(DictionaryArray::<Int8Type>::try_new(keys, Arc::new(values)).unwrap());
        assert_eq!(
            codebook_positions("age_band", &column, &codebook()).unwrap(),
            vec![Some(2), None, Some(0), Some(2)]
        );
        let unknown: DictionaryArray<Int16Type> = vec!["12-13", "nineteen"].into_iter().collect();
        let err = codebook_positions("age_band", &(Arc::new(unknown) as ArrayRef), &codebook());
        assert_eq!(
            err,
            Err(DictError::NotInCodebook {
                column: "age_band".into(),
                codebook: 5
            })
        );
        // an unused dictionary value outside the codebook does not matter
        let keys = arrow::array::Int16Array::from(vec![Some(1)]);
        let values = StringArray::from(vec!["nineteen", "16-17"]);
        let column: ArrayRef =
            Arc::new(DictionaryArray::<Int16Type>::try_new(keys, Arc::new(values)).unwrap());
        assert_eq!(
            codebook_positions("a", &column, &codebook()).unwrap(),
            vec![Some(2)]
        );
        let plain: ArrayRef = Arc::new(StringArray::from(vec!["12-13"]));
        assert!(matches!(
            codebook_positions("a", &plain, &codebook()),
            Err(DictError::NotDictionary { .. })
        ));
    }

    /// Every key type gives the positions of the generic path, with null keys and null values.
    #[test]
    fn typed_keys_give_the_positions_of_normalized_keys() {
        use arrow::array::{DictionaryArray, PrimitiveArray};
        fn check<K: ArrowDictionaryKeyType>(keys: Vec<Option<K::Native>>) {
            let values = StringArray::from(vec![Some("16-17"), None, Some("12-13"), Some("x")]);
            let keys: PrimitiveArray<K> = keys.into_iter().collect();
            let column: ArrayRef =
                Arc::new(DictionaryArray::<K>::try_new(keys, Arc::new(values)).unwrap());
            let codebook = codebook();
            let positions = codebook_positions("a", &column, &codebook);
            let dict = column.as_any_dictionary();
            let value_position = [Some(2), None, Some(0), None];
            let nulls = column.logical_nulls();
            let generic = normalized_positions(dict, nulls.as_ref(), &value_position).ok_or(
                DictError::NotInCodebook {
                    column: "a".into(),
                    codebook: codebook.len(),
                },
            );
            assert_eq!(positions, generic);
        }
        let ok = |k: [i8; 5]| {
            let mut v: Vec<Option<i8>> = k.iter().map(|k| Some(*k)).collect();
            v[1] = None;
            v
        };
        check::<Int8Type>(ok([0, 3, 1, 2, 0]));
        check::<Int8Type>(ok([0, 0, 3, 2, 0]));
        let widen =
            |v: Vec<Option<i8>>| v.into_iter().map(|k| k.map(i64::from)).collect::<Vec<_>>();
        check::<Int16Type>(
            ok([2, 0, 1, 0, 0])
                .into_iter()
                .map(|k| k.map(i16::from))
                .collect(),
        );
        check::<Int32Type>(
            ok([2, 0, 1, 0, 0])
                .into_iter()
                .map(|k| k.map(i32::from))
                .collect(),
        );
        check::<Int64Type>(widen(ok([2, 0, 1, 0, 0])));
        check::<UInt8Type>(
            ok([2, 0, 1, 0, 0])
                .into_iter()
                .map(|k| k.map(|k| k as u8))
                .collect(),
        );
        check::<UInt16Type>(
            ok([2, 0, 1, 0, 0])
                .into_iter()
                .map(|k| k.map(|k| k as u16))
                .collect(),
        );
        check::<UInt32Type>(
            ok([2, 0, 1, 0, 0])
                .into_iter()
                .map(|k| k.map(|k| k as u32))
                .collect(),
        );
        check::<UInt64Type>(
            ok([2, 0, 3, 0, 0])
                .into_iter()
                .map(|k| k.map(|k| k as u64))
                .collect(),
        );
        // the first case holds positions, the ones with key 3 ("x") are refused
        let column: ArrayRef = Arc::new(
            DictionaryArray::<UInt8Type>::try_new(
                PrimitiveArray::from(vec![Some(2u8), None, Some(1), Some(0)]),
                Arc::new(StringArray::from(vec![Some("16-17"), None, Some("12-13")])),
            )
            .unwrap(),
        );
        assert_eq!(
            codebook_positions("a", &column, &codebook()).unwrap(),
            vec![Some(0), None, None, Some(2)]
        );
    }

    /// Writes `positions` as a one-column file through [`write_codebook_chunk`] with `props`; reads it back as
    /// (dictionary of the first batch, every value).
    fn chunk_round_trip(
        props: parquet::file::properties::WriterProperties,
        positions: &[Option<u32>],
    ) -> (Vec<String>, Vec<Option<String>>, Vec<Encoding>) {
        use parquet::file::writer::SerializedFileWriter;
        let dict = DataType::Dictionary(Box::new(DataType::Int16), Box::new(DataType::Utf8));
        let schema = Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("band", dict, true),
        ]));
        let parquet_schema = parquet::arrow::ArrowSchemaConverter::new()
            .convert(&schema)
            .unwrap();
        let mut props = props;
        parquet::arrow::add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let props = Arc::new(props);
        let mut file = SerializedFileWriter::new(
            Vec::new(),
            parquet_schema.root_schema_ptr(),
            Arc::clone(&props),
        )
        .unwrap();
        let mut row_group = file.next_row_group().unwrap();
        let codebook: Arc<[String]> = Arc::from(codebook());
        let (bytes, close) =
            write_codebook_chunk(parquet_schema.column(0), &props, &codebook, positions).unwrap();
        // encodings of the data pages
        let encodings = close
            .metadata
            .page_encoding_stats()
            .into_iter()
            .flatten()
            .filter(|s| s.page_type == parquet::basic::PageType::DATA_PAGE)
            .map(|s| s.encoding)
            .collect();
        row_group.append_column(&bytes, close).unwrap();
        row_group.close().unwrap();
        let data = Bytes::from(file.into_inner().unwrap());
        let batches: Vec<_> =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(data)
                .unwrap()
                .build()
                .unwrap()
                .map(|b| b.unwrap())
                .collect();
        let first = batches[0].column(0).as_any_dictionary();
        let dictionary = first
            .values()
            .as_string::<i32>()
            .iter()
            .map(|v| v.unwrap().to_string())
            .collect();
        let values = batches
            .iter()
            .flat_map(|b| {
                let c = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
                c.as_string::<i32>()
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect::<Vec<_>>()
            })
            .collect();
        (dictionary, values, encodings)
    }

    fn positions(rows: usize) -> Vec<Option<u32>> {
        (0..rows)
            .map(|i| {
                if i % 11 == 3 {
                    None
                } else {
                    Some([1, 2, 1, 0][i % 4])
                }
            })
            .collect()
    }

    fn labels(positions: &[Option<u32>]) -> Vec<Option<String>> {
        let codebook = codebook();
        positions
            .iter()
            .map(|p| p.map(|i| codebook[i as usize].clone()))
            .collect()
    }

    /// Many data pages, each remapped; the chunk's dictionary is the whole codebook.
    #[test]
    fn a_chunk_of_many_pages_reads_back_with_the_codebook() {
        for codec in [Compression::UNCOMPRESSED, Compression::SNAPPY] {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(codec)
                .set_data_page_row_count_limit(100)
                .set_write_batch_size(50)
                .build();
            many_pages(props);
        }
    }

    fn many_pages(props: parquet::file::properties::WriterProperties) {
        let rows = positions(2000);
        let (dictionary, values, encodings) = chunk_round_trip(props, &rows);
        assert_eq!(dictionary, codebook());
        assert!(
            encodings.contains(&Encoding::RLE_DICTIONARY),
            "{encodings:?}"
        );
        assert_eq!(values, labels(&rows));
    }

    /// When the column writer gives up its dictionary (too large for its limit), the values it writes in full
    /// pass unchanged and still read back.
    #[test]
    fn pages_written_after_a_dictionary_fallback_pass_unchanged() {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_page_size_limit(8)
            .set_data_page_row_count_limit(100)
            .set_write_batch_size(50)
            .build();
        let rows = positions(1000);
        let (_, values, encodings) = chunk_round_trip(props, &rows);
        assert_eq!(values, labels(&rows));
        assert!(
            encodings.contains(&Encoding::PLAIN),
            "no fallback: {encodings:?}"
        );
    }

    #[test]
    fn other_codecs_are_refused() {
        let descr = parquet::arrow::ArrowSchemaConverter::new()
            .convert(&arrow::datatypes::Schema::new(vec![
                arrow::datatypes::Field::new("band", DataType::Utf8, true),
            ]))
            .unwrap()
            .column(0);
        let props = Arc::new(
            parquet::file::properties::WriterProperties::builder()
                .set_compression(Compression::LZ4_RAW)
                .build(),
        );
        let err =
            write_codebook_chunk(descr, &props, &Arc::from(codebook()), &[Some(0)]).unwrap_err();
        assert!(
            err.to_string().contains("only uncompressed or with snappy"),
            "{err}"
        );
    }
}
