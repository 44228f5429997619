"""The three-population out-of-Africa model of Gutenkunst et al. (2009), for msprime.

    Gutenkunst RN, Hernandez RD, Williamson SH, Bustamante CD (2009).
    Inferring the joint demographic history of multiple populations from
    multidimensional SNP frequency data. PLoS Genetics 5(10): e1000695.
    https://doi.org/10.1371/journal.pgen.1000695

Parameters are the maximum-likelihood estimates reported in that paper (the
same values as the ``OutOfAfrica_3G09`` model of stdpopsim and the
out-of-Africa example of the msprime documentation), converted to generations
with a generation time of 25 years:

* ancestral size N_A = 7,300;
* African expansion to N_AF = 12,300 at T_AF = 220 kya (8,800 generations);
* out-of-Africa bottleneck N_B = 2,100 starting at T_B = 140 kya
  (5,600 generations);
* CEU/CHB split at T_EU_AS = 21.2 kya (848 generations) with founding sizes
  N_EU0 = 1,000 and N_AS0 = 510, followed by exponential growth at
  r_EU = 0.4 % and r_AS = 0.55 % per generation up to the present;
* symmetric migration rates (per generation): m_AF_B = 25e-5 between YRI and
  the bottleneck population; m_AF_EU = 3e-5, m_AF_AS = 1.9e-5 and
  m_EU_AS = 9.6e-5 between YRI, CEU and CHB after the split.

Used by ``scripts/simulate_example.py`` and ``scripts/simulate_chromosome.py``.
"""

from __future__ import annotations

import math

import msprime

#: Present-day sampled populations, in sampling order.
POPULATIONS: tuple[str, ...] = ("YRI", "CEU", "CHB")
#: Their 1000 Genomes superpopulations.
SUPERPOPULATIONS: dict[str, str] = {"YRI": "AFR", "CEU": "EUR", "CHB": "EAS"}

# Gutenkunst et al. (2009) maximum-likelihood parameters.
GENERATION_TIME = 25  # years per generation
N_A = 7_300  # ancestral effective population size
N_AF = 12_300  # African size after the expansion
N_B = 2_100  # out-of-Africa bottleneck size
N_EU0 = 1_000  # CEU founding size at the EU/AS split
N_AS0 = 510  # CHB founding size at the EU/AS split
R_EU = 0.004  # CEU exponential growth rate per generation
R_AS = 0.0055  # CHB exponential growth rate per generation
T_AF = 220e3 / GENERATION_TIME  # African expansion: 8,800 generations ago
T_B = 140e3 / GENERATION_TIME  # out-of-Africa split: 5,600 generations ago
T_EU_AS = 21.2e3 / GENERATION_TIME  # CEU/CHB split: 848 generations ago
M_AF_B = 25e-5  # YRI <-> bottleneck population
M_AF_EU = 3e-5  # YRI <-> CEU
M_AF_AS = 1.9e-5  # YRI <-> CHB
M_EU_AS = 9.6e-5  # CEU <-> CHB


def build_demography() -> msprime.Demography:
    """Build the Gutenkunst et al. (2009) three-population out-of-Africa model.

    The present-day populations are YRI, CEU and CHB; ``OOA`` (the
    out-of-Africa bottleneck population), ``AMH`` (anatomically modern humans
    in Africa after the expansion) and ``ANC`` (the ancestral population) are
    ancestral populations that only exist further back in time.

    Returns:
        The msprime demography, with populations ordered YRI, CEU, CHB, OOA,
        AMH, ANC.
    """
    # Present-day sizes of the growing populations: N(t) = N(0) exp(-r t)
    # backwards in time, so N(0) = N(T_EU_AS) exp(r T_EU_AS).
    n_eu = N_EU0 * math.exp(R_EU * T_EU_AS)
    n_as = N_AS0 * math.exp(R_AS * T_EU_AS)

    demography = msprime.Demography()
    demography.add_population(
        name="YRI", description="Yoruba in Ibadan, Nigeria", initial_size=N_AF
    )
    demography.add_population(
        name="CEU",
        description="Utah residents with Northern and Western European ancestry",
        initial_size=n_eu,
        growth_rate=R_EU,
    )
    demography.add_population(
        name="CHB",
        description="Han Chinese in Beijing, China",
        initial_size=n_as,
        growth_rate=R_AS,
    )
    demography.add_population(
        name="OOA",
        description="Out-of-Africa bottleneck population",
        initial_size=N_B,
    )
    demography.add_population(
        name="AMH",
        description="Anatomically modern humans (African, post-expansion)",
        initial_size=N_AF,
    )
    demography.add_population(
        name="ANC", description="Ancestral equilibrium population", initial_size=N_A
    )

    # Present-day migration between the three sampled populations.
    demography.set_symmetric_migration_rate(["YRI", "CEU"], M_AF_EU)
    demography.set_symmetric_migration_rate(["YRI", "CHB"], M_AF_AS)
    demography.set_symmetric_migration_rate(["CEU", "CHB"], M_EU_AS)

    # CEU and CHB merge into OOA at T_EU_AS (this also zeroes all migration
    # to and from CEU/CHB); from then on YRI exchanges migrants with OOA.
    demography.add_population_split(time=T_EU_AS, derived=["CEU", "CHB"], ancestral="OOA")
    demography.add_symmetric_migration_rate_change(
        time=T_EU_AS, populations=["YRI", "OOA"], rate=M_AF_B
    )
    # YRI and OOA merge into the African population at T_B.
    demography.add_population_split(time=T_B, derived=["YRI", "OOA"], ancestral="AMH")
    # Before the African expansion the population has the ancestral size.
    demography.add_population_split(time=T_AF, derived=["AMH"], ancestral="ANC")
    demography.sort_events()
    return demography
