"""``tokcli encode`` / ``tokcli decode`` core: batch encoding, output writers, decoding."""

from tokcli.encode.decode import DecodedDocument, decode_lines, write_decoded
from tokcli.encode.options import DecodeConfig, EncodeConfig, OutputFormat
from tokcli.encode.run import EncodeProgress, EncodeResult, corpus_documents, encode_documents, resolve_eos

__all__ = [
    "DecodeConfig",
    "DecodedDocument",
    "EncodeConfig",
    "EncodeProgress",
    "EncodeResult",
    "OutputFormat",
    "corpus_documents",
    "decode_lines",
    "encode_documents",
    "resolve_eos",
    "write_decoded",
]
