"""Which links a family lists is statsmodels' word: nnglm's verdict for every family and link it fits equals what
statsmodels' own family says when built with that link and check_link=True, and no listed link is warned about."""

import subprocess
import sys
import warnings

import pytest

from nnglm.vocabulary import families

PAIRS = [
    (name, variance, link)
    for name in families.family_names()
    for variance in (families.QUASI_VARIANCES if name == "quasi" else [None])
    for link in families.LINKS
    if families.accepts(name, link, variance)
]


def statsmodels_lists(family: families.Family) -> bool:
    """statsmodels' own verdict: its family built with the link and check_link=True raises (or warns) or not."""
    import statsmodels.api as sm

    build = getattr(sm.families, family.distribution.sm_name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            build(family.inverse_link.sm_link(), **dict(family.params), check_link=True)
    except (ValueError, Warning):
        return False
    return True


@pytest.mark.parametrize(("name", "variance", "link"), PAIRS, ids=lambda v: str(v))
def test_a_link_is_listed_exactly_where_statsmodels_family_lists_it(name, variance, link):
    family = families.lookup(name, link, variance=variance)
    listed = statsmodels_lists(family)
    assert family.unlisted is not listed
    assert (link in families.links_of(name, variance)) is listed
    assert (link in families.unlisted_links(name, variance)) is not listed
    assert (family.link_warning is None) is listed
    assert family.sm_family().link.__class__.__name__ == family.inverse_link.sm_name


def test_every_family_and_link_nnglm_fits_is_checked():
    assert len(PAIRS) == sum(len(families.LINKS) for d in families.DISTRIBUTIONS.values() if not d.multiclass) + 4 * len(families.LINKS)
    assert {(n, v, link) for n, v, link in PAIRS if n == "multinomial"} == set()


def test_the_links_statsmodels_lists_beyond_the_old_copies_have_no_warning():
    # statsmodels lists these (a Power subclass is a Power), which the hand copies had called unlisted
    for name, link in [
        ("binomial", "identity"),
        ("negative_binomial", "cloglog"),
        ("negative_binomial", "power"),
        ("negative_binomial", "inverse_power"),
        ("negative_binomial", "inverse_squared"),
        ("tweedie", "inverse_power"),
        ("tweedie", "inverse_squared"),
    ]:
        family = families.lookup(name, link)
        assert not family.unlisted and family.link_warning is None, family.key


def test_the_default_link_is_listed_and_the_link_order_first():
    for name in families.family_names():
        distribution = families.distribution_of(name)
        assert families.default_link(name) == families.links_of(name)[0]
        assert all(link in distribution.links for link in distribution.link_order), name


def test_validating_a_config_asks_statsmodels_nothing():
    code = (
        "import sys; from nnglm.config.schema import ModelConfig; "
        "ModelConfig.model_validate({'family': 'negative_binomial', 'link': 'cloglog'}); "
        "assert not [m for m in sys.modules if m.startswith('statsmodels')], 'statsmodels imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
