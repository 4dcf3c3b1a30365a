"""Configuration loader shared by every command.

A command's configuration is a set of *sections*, each a frozen dataclass (``corpus`` ->
:class:`tokcli.corpus.options.CorpusConfig`, ``train`` -> ``TrainConfig``, ...). Values come from four places,
highest precedence first:

1. command-line flags (only the flags the user actually gave);
2. environment variables ``TOKCLI_<SECTION>_<KEY>`` (e.g. ``TOKCLI_CORPUS_MAX_DOCS``), or the shorthand
   ``TOKCLI_<KEY>`` (e.g. ``TOKCLI_THREADS``), which applies to every section of the command with that key;
3. the YAML file given with ``--config``: a mapping of section names to mappings of keys, e.g.
   ``{corpus: {max_bytes: 50MB}, train: {vocab_size: 32000}}``. One file may hold sections for several
   commands; a command reads the sections it uses. Relative paths in path-valued keys are resolved
   against the YAML file's folder, so a config means the same thing from any working directory.
   Output keys (fields with ``metadata["output"]``) named in a YAML file must stay below the file's
   folder or the current directory: a shared config cannot make tokcli write ``../../.bashrc``;
4. the dataclass defaults.

Unknown keys are rejected with their key path and a "did you mean" suggestion; every value is type
checked. YAML is parsed with ``yaml.safe_load`` only (no Python object tags).

Modules: :mod:`~tokcli.config.sources` (YAML files, environment variables, where a value came from),
:mod:`~tokcli.config.coerce` (values to dataclass field types, sections from mappings),
:mod:`~tokcli.config.paths` (relative paths and outputs named by a YAML file),
:mod:`~tokcli.config.resolve` (one command's config from flags, environment and YAML),
:mod:`~tokcli.config.render` (the resolved config as plain JSON, ``--print-config``),
:mod:`~tokcli.config.keys` (key spellings and "did you mean").
"""

from tokcli.config.coerce import build_section, coerce, describe_type, field_types, parse_size, section_fields
from tokcli.config.render import to_plain
from tokcli.config.resolve import ResolvedConfig, resolve_config
from tokcli.config.sources import ENV_PREFIX, KNOWN_SECTIONS, Origin, read_yaml

__all__ = [
    "ENV_PREFIX",
    "KNOWN_SECTIONS",
    "Origin",
    "ResolvedConfig",
    "build_section",
    "coerce",
    "describe_type",
    "field_types",
    "parse_size",
    "read_yaml",
    "resolve_config",
    "section_fields",
    "to_plain",
]
