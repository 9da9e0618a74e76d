# Sphinx configuration of the project's documentation: the protocol library and the sandbox (Markdown, read
# by myst-parser) and the Tryton module account_payment_ogone (reStructuredText, in Tryton's layout).
# `make doc` builds it with warnings as errors, so a broken reference fails `make test`.
import configparser
import os

_here = os.path.dirname(os.path.abspath(__file__))
_module = configparser.ConfigParser()
_module.read(os.path.join(_here, '..', 'trytond_payment_ogone', 'tryton.cfg'))

project = 'Ogone payments'
copyright = 'the Ogone payments authors'
release = _module.get('tryton', 'version')
version = release.rsplit('.', 1)[0]

extensions = ['myst_parser']
source_suffix = {
    '.rst': 'restructuredtext',
    '.md': 'markdown',
    }
root_doc = 'index'
exclude_patterns = ['_build']
# Markdown headings get anchors, so that [text](file.md#heading) links resolve
myst_heading_anchors = 3
html_theme = 'alabaster'
