/**
 * @file The Hugging Face `config.json` and `preprocessor_config.json` of a CLIP model folder written by the project's
 * own scripts: the demo model (build.ts) and the random-weight bench model (make-bench-model.ts) (build scripts, Node).
 * No tfjs here, so the bench model's writer loads none.
 */
import { type DemoClipConfig } from './clip-tf';

/** CLIP's normalisation constants (written to preprocessor_config.json). */
export const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
/** CLIP's normalisation constants (written to preprocessor_config.json). */
export const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
/** `rescale_factor` of preprocessor_config.json (1/255 written as Hugging Face writes it). */
export const RESCALE = 0.00392156862745098;

/** `config.json` of a CLIP in Hugging Face layout; `coopStudio` says where the model comes from. */
export function hfConfig(c: DemoClipConfig, sotId: number, eotId: number, coopStudio: object): object {
  const common = {
    hidden_act: 'quick_gelu',
    layer_norm_eps: 1e-5,
    projection_dim: c.projectionDim,
    attention_dropout: 0,
    dropout: 0,
    initializer_range: 0.02,
    initializer_factor: 1,
  };
  return {
    architectures: ['CLIPModel'],
    model_type: 'clip',
    projection_dim: c.projectionDim,
    logit_scale_init_value: 2.6592,
    initializer_factor: 1.0,
    torch_dtype: 'float32',
    text_config: {
      model_type: 'clip_text_model',
      hidden_size: c.textWidth,
      intermediate_size: 4 * c.textWidth,
      num_attention_heads: c.textHeads,
      num_hidden_layers: c.textLayers,
      max_position_embeddings: c.contextLength,
      vocab_size: c.vocabSize,
      bos_token_id: sotId,
      eos_token_id: eotId,
      pad_token_id: eotId,
      ...common,
    },
    vision_config: {
      model_type: 'clip_vision_model',
      hidden_size: c.visionWidth,
      intermediate_size: 4 * c.visionWidth,
      num_attention_heads: c.visionHeads,
      num_hidden_layers: c.visionLayers,
      image_size: c.imageSize,
      patch_size: c.patchSize,
      num_channels: 3,
      ...common,
    },
    coop_studio: coopStudio,
  };
}

/** `preprocessor_config.json`: CLIP's resize, centre crop and normalisation for `size`-pixel inputs. */
export function preprocessorConfig(size: number): object {
  return {
    crop_size: { height: size, width: size },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: CLIP_MEAN,
    image_processor_type: 'CLIPImageProcessor',
    image_std: CLIP_STD,
    resample: 3,
    rescale_factor: RESCALE,
    size: { shortest_edge: size },
  };
}
