"""scripts/po-complete: the translations compared with fr.po, and completed from a superset."""
import subprocess
import sys
from pathlib import Path

import polib
import pytest

SCRIPT = Path(__file__).parent.parent / 'scripts' / 'po-complete'
REPOSITORY = Path(__file__).parent.parent
HEADER = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'


def write_po(path, entries):
    path.write_text(HEADER + ''.join(
            f'msgctxt "{ctxt}"\nmsgid "{msgid}"\nmsgstr "{msgstr}"\n\n'
            for ctxt, msgid, msgstr in entries), encoding='utf-8')


def run(tree, *args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), '--tree', str(tree), *args],
        capture_output=True, text=True, timeout=60)


@pytest.fixture
def tree(tmp_path):
    locale = tmp_path / 'trytond_payment_ogone' / 'locale'
    locale.mkdir(parents=True)
    write_po(locale / 'fr.po', [
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Statut Ogone'),
            ('selection:account.payment.ogone.account,environment:', 'Test',
                'Test'),
            ('model:ir.message,text:msg_page_not_found_title',
                'Page not found', 'Page introuvable'),
            ])
    return tmp_path


def test_complete_translation_passes(tree):
    write_po(tree / 'trytond_payment_ogone' / 'locale' / 'it.po', [
            ('model:ir.message,text:msg_page_not_found_title',
                'Page not found', 'Pagina non trovata'),
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Stato Ogone'),
            ('selection:account.payment.ogone.account,environment:', 'Test',
                'Test'),
            ])
    result = run(tree)
    assert (result.returncode, result.stdout) == (0, '')


def test_lists_missing_extra_untranslated_and_fuzzy(tree):
    locale = tree / 'trytond_payment_ogone' / 'locale'
    write_po(locale / 'it.po', [
            ('field:account.payment,ogone_status:', 'Ogone Status', ''),
            ('field:account.payment,ogone_gone:', 'Gone', 'Sparito'),
            ('selection:account.payment.ogone.account,environment:', 'Test',
                'Test'),
            ])
    text = (locale / 'it.po').read_text(encoding='utf-8')
    (locale / 'it.po').write_text(text.replace(
            'msgctxt "selection:', '#, fuzzy\nmsgctxt "selection:'),
        encoding='utf-8')
    write_po(locale / 'de.po', [
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Ogone-Status'),
            ('selection:account.payment.ogone.account,environment:', 'Test',
                'Test'),
            ('model:ir.message,text:msg_page_not_found_title',
                'Page not found', 'Seite nicht gefunden'),
            ])
    before = (locale / 'it.po').read_bytes()

    result = run(tree)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "it.po: missing: model:ir.message,text:msg_page_not_found_title "
        "'Page not found'",
        "it.po: no longer in fr.po: field:account.payment,ogone_gone: 'Gone'",
        "it.po: untranslated: field:account.payment,ogone_status: "
        "'Ogone Status'",
        "it.po: fuzzy: selection:account.payment.ogone.account,environment: "
        "'Test'",
        ]
    assert (locale / 'it.po').read_bytes() == before
    assert run(tree, 'de').returncode == 0


def test_take_from_superset_keeps_only_the_strings_of_fr(tree):
    locale = tree / 'trytond_payment_ogone' / 'locale'
    write_po(locale / 'it.po', [
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Stato Ogone'),
            ('field:account.payment,ogone_gone:', 'Gone', 'Sparito'),
            ])
    superset = tree / 'it-superset.po'
    write_po(superset, [
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Stato (superset)'),
            ('model:ir.message,text:msg_page_not_found_title',
                'Page not found', 'Pagina non trovata'),
            ('model:ir.message,text:msg_other_branch', 'Elsewhere',
                'Altrove'),
            ('model:ir.message,text:msg_page_back', 'Back to %(company)s',
                'Torna a %(company)s'),
            ])
    write_po(locale / 'fr.po', [
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Statut Ogone'),
            ('selection:account.payment.ogone.account,environment:', 'Test',
                'Test'),
            ('model:ir.message,text:msg_page_not_found_title',
                'Page not found', 'Page introuvable'),
            ('model:ir.message,text:msg_page_back', 'Back to %(company)s',
                'Retour à %(company)s'),
            ])

    result = run(tree, '--take-from', str(superset), 'it')

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "it.po: missing: selection:account.payment.ogone.account,environment:"
        " 'Test'"]
    po = polib.pofile(str(locale / 'it.po'))
    assert [(e.msgctxt, e.msgid, e.msgstr, e.flags) for e in po] == [
        ('field:account.payment,ogone_status:', 'Ogone Status',
            'Stato Ogone', []),
        ('model:ir.message,text:msg_page_back', 'Back to %(company)s',
            'Torna a %(company)s', ['python-format']),
        ('model:ir.message,text:msg_page_not_found_title', 'Page not found',
            'Pagina non trovata', []),
        ]
    assert po.metadata == {'Content-Type': 'text/plain; charset=utf-8'}


def test_take_from_creates_a_new_language(tree):
    superset = tree / 'es-superset.po'
    write_po(superset, [
            ('field:account.payment,ogone_status:', 'Ogone Status',
                'Estado Ogone'),
            ('selection:account.payment.ogone.account,environment:', 'Test',
                'Prueba'),
            ('model:ir.message,text:msg_page_not_found_title',
                'Page not found', 'Página no encontrada'),
            ])
    result = run(tree, '--take-from', str(superset), 'es')
    assert (result.returncode, result.stdout) == (0, '')
    assert len(polib.pofile(
                str(tree / 'trytond_payment_ogone' / 'locale' / 'es.po'))) == 3


@pytest.mark.parametrize('args, error', [
        (['fr'], 'fr.po is the reference'),
        (['xx'], 'no '),
        (['--take-from', 'missing.po', 'it'], 'no missing.po'),
        (['--take-from', 'fr.po'], 'completes one language'),
        ])
def test_bad_arguments_are_refused_and_change_nothing(tree, args, error):
    locale = tree / 'trytond_payment_ogone' / 'locale'
    write_po(locale / 'it.po', [])
    before = {p.name: p.read_bytes() for p in locale.iterdir()}
    result = run(tree, *args)
    assert result.returncode == 2
    assert error in result.stderr
    assert {p.name: p.read_bytes() for p in locale.iterdir()} == before


def test_the_shipped_translations_are_complete():
    result = run(REPOSITORY)
    assert (result.returncode, result.stdout) == (0, '')
