#!/usr/bin/env bash
# Whole-region sampling on the real cohort (experiments/notebook/regions.md).
#
#   experiments/region_experiment.sh [DATA_DIR] [OUT_DIR] [EPOCHS] [REGION ...]
#
# DATA_DIR (default ../shared/data) holds 1kg_chr1_2.0-3.0Mb.{vcf.gz,populations.tsv,sections.bed};
# OUT_DIR (default runs-region) gets the config, the runs (OUT_DIR/runs/<section>/region) and the
# sampled regions (OUT_DIR/runs/regions/<name>/: VCF, index.html, region.json). Each REGION
# (default: the five sections of chr1:2802297-3009019) trains every section it overlaps, with one
# seed, then samples the region (region.json holds every joint model's numbers beside the ceiling).
# Re-running skips finished sections.
set -euo pipefail
DATA=${1:-../shared/data}
OUT=${2:-runs-region}
EPOCHS=${3:-100}
shift $(( $# > 3 ? 3 : $# ))
REGIONS=("$@")
[ ${#REGIONS[@]} -gt 0 ] || REGIONS=("chr1:2802297-3009019")
VG=${VG:-vae-genomics}
mkdir -p "$OUT"
cat > "$OUT/config.yaml" <<YAML
seed: 42
runs_dir: $OUT/runs
sections_dir: $OUT/sections
data:
  vcf: $DATA/1kg_chr1_2.0-3.0Mb.vcf.gz
  populations: $DATA/1kg_chr1_2.0-3.0Mb.populations.tsv
  sections: bed
  bed: $DATA/1kg_chr1_2.0-3.0Mb.sections.bed
  min_maf: 0.01
training:
  epochs: $EPOCHS
  patience: 10
YAML
for region in "${REGIONS[@]}"; do
  contig=${region%%:*}; range=${region#*:}; lo=${range%-*}; hi=${range#*-}
  # sections of the BED (0-based starts) that overlap the region, trained in one job
  sections=$(awk -v c="$contig" -v lo="$lo" -v hi="$hi" \
    '$1 == c && $2 + 1 <= hi && $3 >= lo {print $4}' "$DATA/1kg_chr1_2.0-3.0Mb.sections.bed" | paste -sd,)
  $VG train --config "$OUT/config.yaml" --sections "$sections" --run-name region --skip-existing
  $VG sample --runs "$OUT/runs" --region "$region" --n 1000 --overwrite
done
