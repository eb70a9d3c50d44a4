export { permutations } from './permutations';
export {
  SI_SDR_EPS, siSdr_BT, siSdr_BST, pairwiseSiSdr_BST, crossClassRows, negPitSiSdrPerSource_BST, negPitSiSdr_BST, siSdri_BST,
} from './siSdr';
export type { PitPerSource, PitPerExample } from './siSdr';
export { siSdr, pitSiSdr, siSdri } from './siSdrArrays';
export { mixtureConsistent_BST } from './consistency';
export { SILENT_STEM_FLOOR_DB, stemLevelDb_BST } from './silence';
export type { PitResult } from './siSdrArrays';
