"""Benign models as the ecosystems people ship write them: scikit-learn estimators and
pipelines (column transformers, ensembles, text vectorisers, function transformers of NumPy
ufuncs, searches), joblib with every compression it supports here, PyTorch state dicts, full
modules and training checkpoints (optimizer and scheduler state, RNG state, argparse
hyper-parameters), NumPy structured, masked, matrix and random-generator objects. The pickle
scanner's known-safe list is checked against these files: none may raise a finding at MEDIUM or
above in default mode, and every one must scan to the end.

Every file is named benign_real_*. Nothing here is malicious; the models are tiny but written
by the real libraries.
"""
import argparse
import collections
import datetime
import os
import pickle
import random


def _sklearn(out, save):
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA, TruncatedSVD
    from sklearn.ensemble import (AdaBoostClassifier, BaggingClassifier, ExtraTreesRegressor,
                                  GradientBoostingClassifier, HistGradientBoostingClassifier,
                                  IsolationForest, RandomForestClassifier, StackingClassifier,
                                  VotingClassifier)
    from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer, TfidfVectorizer
    from sklearn.impute import KNNImputer, SimpleImputer
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression, SGDClassifier, Ridge
    from sklearn.model_selection import GridSearchCV
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import (FunctionTransformer, LabelEncoder, MinMaxScaler, OneHotEncoder,
                                       StandardScaler)
    from sklearn.svm import SVC, LinearSVC
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.RandomState(0)
    X = rng.rand(80, 4)
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    Xc = np.column_stack([X[:, :3], rng.randint(0, 3, 80)])
    texts = ["good model", "bad model", "fine weights", "poor weights"] * 10
    ty = [1, 0, 1, 0] * 10
    models = {
        "column_transformer": Pipeline([
            ("prep", ColumnTransformer([("num", StandardScaler(), [0, 1, 2]),
                                        ("cat", OneHotEncoder(handle_unknown="ignore"), [3])])),
            ("clf", LogisticRegression())]).fit(Xc, y),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=5, random_state=0).fit(X, y),
        "mlp": MLPClassifier(hidden_layer_sizes=(5,), max_iter=50, random_state=0).fit(X, y),
        "random_forest": RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y),
        "extra_trees": ExtraTreesRegressor(n_estimators=3, random_state=0).fit(X, X[:, 0]),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=5).fit(X, y),
        "tfidf_nb": make_pipeline(TfidfVectorizer(), MultinomialNB()).fit(texts, ty),
        "count_vectorizer": CountVectorizer().fit(texts),
        "hashing_vectorizer": make_pipeline(HashingVectorizer(n_features=16), SGDClassifier(random_state=0)).fit(texts, ty),
        "function_transformer": make_pipeline(FunctionTransformer(np.log1p), FunctionTransformer(np.sqrt),
                                              Ridge()).fit(X, X[:, 0]),
        "kmeans": KMeans(n_clusters=2, n_init=2, random_state=0).fit(X),
        "pca_svd": make_pipeline(PCA(n_components=2), MinMaxScaler()).fit(X),
        "truncated_svd": TruncatedSVD(n_components=2, random_state=0).fit(X),
        "svc": SVC(probability=True, random_state=0).fit(X, y),
        "linear_svc": LinearSVC(dual=True, random_state=0).fit(X, y),
        "knn": KNeighborsClassifier(n_neighbors=3, algorithm="kd_tree").fit(X, y),
        "knn_ball_tree": KNeighborsClassifier(n_neighbors=3, algorithm="ball_tree").fit(X, y),
        "decision_tree": DecisionTreeRegressor(max_depth=3).fit(X, X[:, 1]),
        "voting": VotingClassifier([("lr", LogisticRegression()), ("dt", RandomForestClassifier(n_estimators=2))]).fit(X, y),
        "stacking": StackingClassifier([("lr", LogisticRegression()), ("svc", LinearSVC(dual=True))], cv=2).fit(X, y),
        "bagging": BaggingClassifier(n_estimators=2, random_state=0).fit(X, y),
        "adaboost": AdaBoostClassifier(n_estimators=3, random_state=0).fit(X, y),
        "grid_search": GridSearchCV(LogisticRegression(), {"C": [0.1, 1.0]}, cv=2).fit(X, y),
        "isolation_forest": IsolationForest(n_estimators=3, random_state=0).fit(X),
        "label_encoder": LabelEncoder().fit(["a", "b", "c"]),
        "imputers": make_pipeline(SimpleImputer(), KNNImputer(n_neighbors=2)).fit(X),
        "sgd_random_state": SGDClassifier(random_state=np.random.RandomState(3)).fit(X, y),
    }
    for name, model in models.items():
        save(f"benign_real_sklearn_{name}.pkl", model, 4)
    save("benign_real_sklearn_random_forest_p2.pkl", models["random_forest"], 2)
    save("benign_real_sklearn_gradient_boosting_p5.pkl", models["gradient_boosting"], 5)
    return models


def _joblib(out, models):
    import joblib
    for name in ("column_transformer", "gradient_boosting", "mlp", "tfidf_nb", "knn"):
        joblib.dump(models[name], os.path.join(out, f"benign_real_joblib_{name}.joblib"))
    for method in ("zlib", "gzip", "bz2", "xz", "lzma"):
        joblib.dump(models["random_forest"], os.path.join(out, f"benign_real_joblib_rf_{method}.joblib"),
                    compress=(method, 3))


def _torch(out):
    import numpy as np
    import torch
    torch.manual_seed(0)
    conv = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2), torch.nn.ReLU(),
                               torch.nn.Flatten(), torch.nn.Linear(2 * 6 * 6, 3))
    lstm = torch.nn.LSTM(4, 3, batch_first=True)
    enc = torch.nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16)
    emb = torch.nn.Sequential(torch.nn.Embedding(10, 4), torch.nn.LayerNorm(4), torch.nn.Dropout(0.1))
    p = lambda n: os.path.join(out, n)
    torch.save(conv.state_dict(), p("benign_real_torch_conv_state_dict.pt"))
    torch.save(lstm.state_dict(), p("benign_real_torch_lstm_state_dict.pt"))
    torch.save(enc.state_dict(), p("benign_real_torch_transformer_state_dict.pt"))
    torch.save(conv, p("benign_real_torch_conv_module.pt"))
    torch.save(lstm, p("benign_real_torch_lstm_module.pt"))
    torch.save(enc, p("benign_real_torch_transformer_module.pt"))
    torch.save(emb, p("benign_real_torch_embedding_module.pt"))
    torch.save(conv, p("benign_real_torch_conv_module_legacy.pt"), _use_new_zipfile_serialization=False)
    opt = torch.optim.Adam(conv.parameters(), lr=1e-3)
    conv(torch.randn(2, 1, 8, 8)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2)
    sched.step()
    args = argparse.Namespace(lr=1e-3, epochs=3, arch="conv", seed=0)
    ckpt = {"epoch": 3, "model": conv.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "rng": torch.get_rng_state(),
            "numpy_rng": np.random.get_state(), "python_rng": random.getstate(), "args": args,
            "saved_at": datetime.datetime(2026, 1, 2, 3, 4, 5), "metrics": collections.OrderedDict(loss=0.5)}
    torch.save(ckpt, p("benign_real_torch_training_checkpoint.pt"))
    torch.save(ckpt, p("benign_real_torch_training_checkpoint_legacy.pt"), _use_new_zipfile_serialization=False)
    sgd = torch.optim.SGD(lstm.parameters(), lr=0.1, momentum=0.9)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=5)
    torch.save({"model": lstm.state_dict(), "optimizer": sgd.state_dict(), "scheduler": cos.state_dict()},
               p("benign_real_torch_sgd_checkpoint.pt"))
    # Many small tensors: storages whose bytes must never be taken for pickles.
    big = {f"layer{i}.weight": torch.randn(4, 4) for i in range(300)}
    torch.save(big, p("benign_real_torch_300_tensors.pt"))
    for i in range(20):
        torch.save(torch.nn.Linear(3, 2).state_dict(), p(f"benign_real_torch_linear_{i:02d}.pt"))
    half = {"w": torch.randn(3, 3).half(), "b": torch.randn(3).bfloat16(), "i": torch.arange(5),
            "mask": torch.ones(3, dtype=torch.bool)}
    torch.save(half, p("benign_real_torch_dtypes.pt"))


def _numpy(out, save):
    import numpy as np
    structured = np.zeros(4, dtype=[("id", "<i4"), ("xy", "<f8", (2,)), ("tag", "S4")])
    save("benign_real_numpy_structured.pkl", structured, 4)
    save("benign_real_numpy_masked.pkl", np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0], fill_value=-1.0), 4)
    save("benign_real_numpy_matrix.pkl", np.matrix([[1, 2], [3, 4]]), 4)
    save("benign_real_numpy_generator.pkl", np.random.default_rng(0), 4)
    save("benign_real_numpy_generator_philox.pkl", np.random.Generator(np.random.Philox(1)), 4)
    save("benign_real_numpy_random_state.pkl", np.random.RandomState(0), 2)
    save("benign_real_numpy_seed_sequence.pkl", np.random.SeedSequence(5), 4)
    save("benign_real_numpy_recarray.pkl", np.rec.array([(1, 2.0)], dtype=[("a", "i4"), ("b", "f8")]), 4)
    save("benign_real_numpy_datetime.pkl", np.array(["2026-01-01"], dtype="datetime64[D]"), 4)
    save("benign_real_numpy_scalars.pkl", {"f": np.float64(1.5), "i": np.int64(7), "c": np.complex64(1j),
                                           "b": np.bool_(True)}, 2)
    np.save(os.path.join(out, "benign_real_numpy_structured.npy"), structured)
    np.savez(os.path.join(out, "benign_real_numpy_arrays.npz"), a=np.arange(3), b=np.ones((2, 2)))


def generate(out):
    def save(name, obj, protocol):
        with open(os.path.join(out, name), "wb") as f:
            pickle.dump(obj, f, protocol=protocol)

    models = _sklearn(out, save)
    _joblib(out, models)
    _torch(out)
    _numpy(out, save)
