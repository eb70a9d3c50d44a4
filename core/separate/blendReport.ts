// What an RNNoise blend did to one file, from its windows' WindowBlends: how much of the speech the
// model and RNNoise disagreed on, and how much of the speech stem is RNNoise's. Reported with the
// stems so that users know what they are listening to. It says where the two disagree, not which of
// them is wrong: it is about as high on the training packages' own test split, where the blend loses,
// as on packages never trained on, where it wins (docs/separation.md).
import { RNNOISE_AUTO } from './defaults';
import type { WindowBlend } from './separate';

export interface BlendReport {
  /**
   * Share of the speech stem's energy in windows where the model's speech and RNNoise's disagreed
   * (agreement below RNNOISE_AUTO.agreementDb, where `auto` gives RNNoise most of its largest share).
   */
  disagreed: number;
  /** RNNoise's share of the speech stem, averaged over the windows by their speech energy. */
  rnnoiseShare: number;
}

/** Adds up a separation's WindowBlends (pass `add` as SeparateOptions.onWindowBlend). */
export class BlendTally {
  private speech = 0;
  private disagreedSpeech = 0;
  private sharedSpeech = 0;

  readonly add = ({ agreementDb, share, speechEnergy }: WindowBlend): void => {
    this.speech += speechEnergy;
    if (agreementDb < RNNOISE_AUTO.agreementDb) this.disagreedSpeech += speechEnergy;
    this.sharedSpeech += share * speechEnergy;
  };

  /** The report, or null where no window was blended or the speech stem is silent. */
  report(): BlendReport | null {
    if (!(this.speech > 0)) return null;
    return { disagreed: this.disagreedSpeech / this.speech, rnnoiseShare: this.sharedSpeech / this.speech };
  }
}
