#include "keras_builtins.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <unordered_set>

namespace secmlops::plugins::keras {
namespace {

const std::unordered_set<std::string_view>& classes() {
  static const std::unordered_set<std::string_view> s = {
      // models
      "Sequential", "Functional", "Model",
      // core
      "InputLayer", "Input", "Dense", "EinsumDense", "Activation", "Embedding", "Masking", "Lambda",
      "Identity", "Wrapper", "TFOpLambda", "SlicingOpLambda", "InputSpec",
      // convolution
      "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
      "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D", "Convolution1D",
      "Convolution2D", "Convolution3D", "Convolution1DTranspose", "Convolution2DTranspose",
      "Convolution3DTranspose", "SeparableConvolution1D", "SeparableConvolution2D",
      "LocallyConnected1D", "LocallyConnected2D",
      // pooling
      "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
      "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
      "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D", "MaxPool1D",
      "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D",
      "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D",
      // recurrent
      "LSTM", "GRU", "SimpleRNN", "RNN", "LSTMCell", "GRUCell", "SimpleRNNCell", "StackedRNNCells",
      "Bidirectional", "TimeDistributed", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "CuDNNLSTM",
      "CuDNNGRU", "PeepholeLSTMCell",
      // normalization and regularization
      "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
      "SpectralNormalization", "RMSNormalization", "SyncBatchNormalization", "Dropout",
      "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianDropout", "AlphaDropout",
      "GaussianNoise", "ActivityRegularization",
      // attention
      "Attention", "AdditiveAttention", "MultiHeadAttention", "GroupedQueryAttention",
      // reshaping
      "Reshape", "Flatten", "RepeatVector", "Permute", "Cropping1D", "Cropping2D", "Cropping3D",
      "UpSampling1D", "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D",
      "ZeroPadding3D",
      // merging
      "Concatenate", "Average", "Maximum", "Minimum", "Add", "Subtract", "Multiply", "Dot",
      // activation layers
      "ReLU", "Softmax", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU",
      // preprocessing
      "TextVectorization", "Normalization", "Discretization", "CategoryEncoding", "Hashing",
      "HashedCrossing", "StringLookup", "IntegerLookup", "Resizing", "Rescaling", "CenterCrop",
      "RandomCrop", "RandomFlip", "RandomTranslation", "RandomRotation", "RandomZoom",
      "RandomContrast", "RandomBrightness", "RandomHeight", "RandomWidth", "AutoContrast",
      "RandomGrayscale", "Solarization", "RandomSharpness", "RandomShear", "RandomHue",
      "RandomSaturation", "RandomColorJitter", "RandomPosterization", "Equalization", "MelSpectrogram",
      "STFTSpectrogram", "Pipeline",
      // initializers
      "Zeros", "Ones", "Constant", "RandomNormal", "RandomUniform", "TruncatedNormal",
      "VarianceScaling", "Orthogonal", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
      "LecunNormal", "LecunUniform", "IdentityInitializer", "OrthogonalInitializer", "STFTInitializer",
      // regularizers and constraints
      "L1", "L2", "L1L2", "OrthogonalRegularizer", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm",
      "RadialConstraint",
      // optimizers and schedules
      "SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "Adafactor", "Nadam", "Ftrl", "RMSprop",
      "Lion", "Lamb", "Muon", "LossScaleOptimizer", "LossScaleOptimizerV3", "ExponentialDecay",
      "PiecewiseConstantDecay", "PolynomialDecay", "InverseTimeDecay", "CosineDecay",
      "CosineDecayRestarts",
      // losses
      "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
      "CategoricalFocalCrossentropy", "SparseCategoricalCrossentropy", "MeanSquaredError",
      "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
      "CosineSimilarity", "Huber", "LogCosh", "Hinge", "SquaredHinge", "CategoricalHinge",
      "KLDivergence", "Poisson", "Tversky", "Dice", "CTC", "LossFunctionWrapper", "Circle",
      // metrics
      "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
      "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "AUC", "Precision", "Recall",
      "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives", "Mean", "Sum",
      "MeanMetricWrapper", "MeanIoU", "IoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU", "F1Score",
      "FBetaScore", "R2Score", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
      "SpecificityAtSensitivity", "RootMeanSquaredError", "LogCoshError", "MeanTensor",
      "CategoricalCrossentropyMetric", "Crossentropy",
      // dtype policies
      "Policy", "DTypePolicy", "FloatDTypePolicy", "QuantizedDTypePolicy",
      "QuantizedFloat8DTypePolicy", "DTypePolicyMap",
      // Keras 3 serialization markers (plain data, no code)
      "__tuple__", "__numpy__", "__tensor__", "__bytes__", "__typespec__", "__keras_tensor__",
      "__ellipsis__", "__slice__", "TensorShape", "SharedObjectConfig", "KerasTensor",
  };
  return s;
}

const std::unordered_set<std::string_view>& losses_and_metrics() {
  static const std::unordered_set<std::string_view> s = {
      "binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
      "binary_focal_crossentropy", "categorical_focal_crossentropy", "mse", "mae", "mape", "msle",
      "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
      "mean_squared_logarithmic_error", "hinge", "squared_hinge", "categorical_hinge", "kld",
      "kl_divergence", "kullback_leibler_divergence", "poisson", "cosine_similarity", "log_cosh",
      "logcosh", "huber", "huber_loss", "ctc", "dice", "tversky", "accuracy", "acc", "crossentropy",
      "ce", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
      "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "auc", "precision", "recall",
      "loss", "root_mean_squared_error", "r2_score", "f1_score"};
  return s;
}

}  // namespace

bool is_builtin_class(std::string_view c) { return classes().count(c) != 0; }

bool is_builtin_loss_or_metric(std::string_view n) { return losses_and_metrics().count(n) != 0; }

bool is_builtin_optimizer(std::string_view c) {
  static constexpr std::array<std::string_view, 14> kOpt = {
      "SGD", "Adam", "AdamW", "Adadelta", "Adagrad", "Adamax", "Adafactor", "Nadam", "Ftrl",
      "RMSprop", "Lion", "Lamb", "Muon", "LossScaleOptimizer"};
  return std::find(kOpt.begin(), kOpt.end(), c) != kOpt.end();
}

bool is_keras_module(std::string_view m) {
  for (std::string_view root : {"keras", "tf_keras", "tensorflow.keras", "tensorflow.python.keras"})
    if (m == root || (m.size() > root.size() && m.substr(0, root.size()) == root && m[root.size()] == '.'))
      return true;
  return false;
}

bool is_dangerous_module(std::string_view m) {
  static constexpr std::array<std::string_view, 24> kDangerous = {
      "os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "importlib", "runpy",
      "code", "codeop", "pty", "shutil", "socket", "pickle", "_pickle", "marshal", "ctypes",
      "multiprocessing", "webbrowser", "urllib", "requests", "http", "commands"};
  std::string_view root = m.substr(0, m.find('.'));
  return std::find(kDangerous.begin(), kDangerous.end(), root) != kDangerous.end();
}

bool is_dangerous_keras_function(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kFns = {
      "get_file", "enable_unsafe_deserialization", "load_model", "load_weights", "set_global_attribute"};
  return std::find(kFns.begin(), kFns.end(), name) != kFns.end();
}

}  // namespace secmlops::plugins::keras
